/** Placeholder: replaced by the real saga-confirm-inventory handler. */
export const handler = async (): Promise<never> => {
  throw new Error('saga-confirm-inventory is not implemented yet');
};
