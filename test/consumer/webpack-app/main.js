// A webpack 5 app using the installed package as documented.
import { createClassifier, isFewshotError } from 'fewshot-edge/sdk';
import { exposeFixture } from './flow.js';

exposeFixture({ isFewshotError, open: createClassifier });
