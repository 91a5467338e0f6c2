/** Placeholder: replaced by the real saga-void-authorization handler. */
export const handler = async (): Promise<never> => {
  throw new Error('saga-void-authorization is not implemented yet');
};
