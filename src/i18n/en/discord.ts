// Words of the Discord views, replies and panels, in English (the reference language).
export const discord = {
  status: {
    waiting: "Waiting to start",
  },
};
