/** Placeholder: replaced by the real saga-authorize-payment handler. */
export const handler = async (): Promise<never> => {
  throw new Error('saga-authorize-payment is not implemented yet');
};
