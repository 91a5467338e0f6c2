/** Placeholder: replaced by the real saga-notify-merchant handler. */
export const handler = async (): Promise<never> => {
  throw new Error('saga-notify-merchant is not implemented yet');
};
