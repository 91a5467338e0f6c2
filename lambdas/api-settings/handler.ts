/** Placeholder: replaced by the real api-settings handler. */
export const handler = async (): Promise<never> => {
  throw new Error('api-settings is not implemented yet');
};
