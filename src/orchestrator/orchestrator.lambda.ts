// placeholder entry point, replaced by the session API handler (issue 4).
export const handler = async (): Promise<never> => {
  throw new Error('the session API handler is not built yet');
};
