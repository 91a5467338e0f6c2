/** Placeholder: replaced by the real saga-capture-payment handler. */
export const handler = async (): Promise<never> => {
  throw new Error('saga-capture-payment is not implemented yet');
};
