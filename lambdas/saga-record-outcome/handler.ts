/** Placeholder: replaced by the real saga-record-outcome handler. */
export const handler = async (): Promise<never> => {
  throw new Error('saga-record-outcome is not implemented yet');
};
