import { Hono, type Context, type MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { FewShotClassifier } from '../src/classifier.js';
import { decodeExamples } from '../src/codec.js';
import { FewshotError } from '../src/errors.js';
import { requireUser, type AuthVariables } from './auth.js';
import { isolateMemo } from './head-memo.js';
import { countVar, type Env } from './env.js';
import { errorResponse, HttpError } from './http-errors.js';
import { readInput, type RequestInput } from './input.js';
import { KvStore } from './kv-store.js';
import { getEmbedder, lazyEmbedder, WORKER_IMAGE_LIMITS } from './model.js';

type AppEnv = { Bindings: Env; Variables: AuthVariables };
type AppContext = Context<AppEnv>;

const DEFAULT_MAX_EXAMPLES = 500;

/** The edge API: `GET /healthz` and the per-user `/v1` routes (bearer JWT). Every response is JSON. */
export const app = new Hono<AppEnv>();

// Hono's `route()` wraps each of this app's handlers in this onError, so it also holds when a team mounts the app.
app.onError((err, c) => errorResponse(c, err));

/** Loads the model if needed, so a deploy can be checked (and warmed) with one request. */
app.get('/healthz', async (c) => {
  const embedder = await getEmbedder(c.env);
  return c.json({ ok: true, model: embedder.spec.name, dim: embedder.spec.dim, backend: embedder.backend });
});

const v1 = new Hono<AppEnv>();
v1.use('*', requireUser());

v1.post('/examples', limitBody(), async (c) => {
  const input = await readInput(c);
  const label = requireLabel(input);
  const classifier = await openClassifier(c);
  checkQuota(c, classifier, 1);
  const added =
    input.kind === 'image'
      ? await classifier.addExample(label, input.image)
      : await classifier.addEmbedding(label, deviceEmbedding(classifier, input));
  return c.json(added, 201);
});

v1.post('/classify', limitBody(), async (c) => {
  const input = await readInput(c);
  const classifier = await openClassifier(c);
  const prediction =
    input.kind === 'image' ? await classifier.classify(input.image) : classifier.classifyEmbedding(deviceEmbedding(classifier, input));
  return c.json(prediction);
});

v1.get('/classes', async (c) => {
  const classifier = await openClassifier(c);
  const { model, examples } = classifier.info();
  return c.json({ model, examples, classes: classifier.listClasses() });
});

v1.delete('/classes/:label', async (c) => {
  const classifier = await openClassifier(c);
  const removed = await classifier.removeClass(c.req.param('label'));
  return c.json({ label: c.req.param('label'), removed });
});

v1.delete('/examples/:id', async (c) => {
  const classifier = await openClassifier(c);
  const id = c.req.param('id');
  // Another user's example id is not found here either: keys come from the token, so it cannot be reached.
  if (!(await classifier.removeExample(id))) throw new FewshotError('NOT_FOUND', `There is no example ${JSON.stringify(id)}.`);
  return c.json({ id, removed: true });
});

v1.get('/export', async (c) => c.json(await (await openClassifier(c)).export()));

v1.put('/import', limitBody(), async (c) => {
  const type = (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json') {
    throw new HttpError(415, 'UNSUPPORTED_MEDIA_TYPE', 'Send the exported document as application/json.');
  }
  const document = await c.req.text();
  const classifier = await openClassifier(c);
  const before = classifier.info().examples;
  // Validated and counted before anything is written: a bad or too big document imports nothing.
  checkQuota(c, classifier, decodeExamples(document, classifier.info().model).length);
  const imported = await classifier.import(document);
  return c.json({ imported, examples: before + imported });
});

app.route('/v1', v1);

// A catch-all route, registered last, rather than `app.notFound`: `parent.route('/prefix', app)` copies routes
// but not notFound, and unknown paths under the prefix must still get this API's JSON 404.
app.all('*', (c) => errorResponse(c, new HttpError(404, 'ROUTE_NOT_FOUND', `There is no route ${c.req.method} ${c.req.path}.`)));

function openClassifier(c: AppContext): Promise<FewShotClassifier> {
  return FewShotClassifier.open({
    userId: c.get('userId'),
    embedder: lazyEmbedder(c.env),
    store: new KvStore(c.env.EXAMPLES, (work) => c.executionCtx.waitUntil(work)),
    flip: c.env.FLIP !== 'false',
    memo: isolateMemo,
  });
}

/** Caps the body before it is read: by `content-length` when sent, else while streaming. */
function limitBody(): MiddlewareHandler<AppEnv> {
  return (c, next) => {
    const maxSize = countVar(c.env, 'MAX_BODY_BYTES', WORKER_IMAGE_LIMITS.maxBytes);
    return bodyLimit({
      maxSize,
      onError: (c) => errorResponse(c, new HttpError(413, 'BODY_TOO_LARGE', `The request body is over ${maxSize} bytes.`)),
    })(c, next);
  };
}

function requireLabel(input: RequestInput): string {
  if (input.label === undefined) {
    throw new FewshotError('INVALID_LABEL', 'A label is required: the multipart field "label", "label" in the JSON body, or ?label=.');
  }
  return input.label;
}

/** A device-made embedding must come from the model this worker runs. */
function deviceEmbedding(classifier: FewShotClassifier, input: Extract<RequestInput, { kind: 'embedding' }>): number[] {
  const { model } = classifier.info();
  if (input.model !== model) {
    throw new FewshotError('MODEL_MISMATCH', `The embedding was made with ${JSON.stringify(input.model)}; this endpoint runs ${model}. Embed with ${model} on the device.`);
  }
  return input.embedding;
}

function checkQuota(c: AppContext, classifier: FewShotClassifier, adding: number): void {
  const max = countVar(c.env, 'MAX_EXAMPLES_PER_USER', DEFAULT_MAX_EXAMPLES);
  const { examples } = classifier.info();
  if (examples + adding > max) {
    throw new FewshotError('QUOTA_EXCEEDED', `A user may store at most ${max} examples; you have ${examples}. Delete a class or examples first.`);
  }
}
