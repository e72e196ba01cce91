// An ordinary Vite config: nothing in it is there for fewshot-edge, which must work without configuration.
export default {
  logLevel: 'warn',
};
