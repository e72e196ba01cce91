import 'fewshot-edge/sdk/worker';
