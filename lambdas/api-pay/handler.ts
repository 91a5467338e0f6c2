/** Placeholder: replaced by the real api-pay handler. */
export const handler = async (): Promise<never> => {
  throw new Error('api-pay is not implemented yet');
};
