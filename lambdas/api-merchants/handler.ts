/** Placeholder: replaced by the real api-merchants handler. */
export const handler = async (): Promise<never> => {
  throw new Error('api-merchants is not implemented yet');
};
