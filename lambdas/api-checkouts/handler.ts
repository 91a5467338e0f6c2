/** Placeholder: replaced by the real api-checkouts handler. */
export const handler = async (): Promise<never> => {
  throw new Error('api-checkouts is not implemented yet');
};
