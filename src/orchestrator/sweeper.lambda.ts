// placeholder entry point, replaced by the sweeper handler (issue 5).
export const handler = async (): Promise<never> => {
  throw new Error('the sweeper handler is not built yet');
};
