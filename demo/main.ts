// The browser SDK's demo: teach classes from the webcam or photos, then classify live or a chosen photo.
// URL parameters: ?user=alice (whose classes), ?backend=auto|webgpu|wasm|cpu, ?model=mobilenet_v2_100|mobilenet_v1_025.
import wasmUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreadedUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import { createStore, del, get, update } from 'idb-keyval';
import {
  createClassifier,
  DEFAULT_MODEL,
  isFewshotError,
  isModelName,
  MODELS,
  type BackendChoice,
  type BrowserClassifier,
  type ModelName,
  type Prediction,
} from '../sdk/index.js';

// ---------------------------------------------------------------- settings (from the URL)

const params = new URLSearchParams(location.search);
const USER_KEY = 'fewshot-edge-demo:user';
const userId = params.get('user')?.trim() || localStorage.getItem(USER_KEY) || 'demo';
const backendChoice = (['auto', 'webgpu', 'wasm', 'cpu'] as const).find((b) => b === params.get('backend')) ?? 'auto';
const modelName: ModelName = isModelName(params.get('model')) ? (params.get('model') as ModelName) : DEFAULT_MODEL;
/** The tfjs binaries, as Vite serves them in dev and emits them in a build. */
const WASM_PATHS = {
  'tfjs-backend-wasm.wasm': wasmUrl,
  'tfjs-backend-wasm-simd.wasm': wasmSimdUrl,
  'tfjs-backend-wasm-threaded-simd.wasm': wasmThreadedUrl,
};

// ---------------------------------------------------------------- DOM helpers

function $<T extends HTMLElement = HTMLElement>(testid: string): T {
  const found = document.querySelector<T>(`[data-testid="${testid}"]`);
  if (!found) throw new Error(`The page has no [data-testid="${testid}"].`);
  return found;
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: Partial<HTMLElementTagNameMap[K]> & { testid?: string } = {}, children: (Node | string)[] = []): HTMLElementTagNameMap[K] {
  const { testid, ...rest } = props;
  const node = Object.assign(document.createElement(tag), rest);
  if (testid) node.dataset.testid = testid;
  node.append(...children);
  return node;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const percent = (x: number) => `${Math.round(x * 100)}%`;
const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
/** A stable colour per class, so its bar and its card match. */
const hueOf = (label: string) => [...label].reduce((h, c) => (h * 31 + c.codePointAt(0)!) % 360, 7);

function messageOf(err: unknown): string {
  if (isFewshotError(err)) return err.message;
  return err instanceof Error ? err.message : String(err);
}

function setStatus(text: string, kind: 'info' | 'error' | 'busy' = 'info'): void {
  const status = $('status');
  status.textContent = text;
  status.dataset.kind = kind;
}

// ---------------------------------------------------------------- thumbnails (the SDK keeps embeddings only)

const thumbStore = createStore('fewshot-edge-demo', 'thumbnails');
const MAX_THUMBS = 12;
const THUMB_SIDE = 112;

const thumbsOf = async (label: string) => (await get<string[]>([userId, label], thumbStore)) ?? [];
const addThumb = (label: string, url: string) => update<string[]>([userId, label], (old) => [url, ...(old ?? [])].slice(0, MAX_THUMBS), thumbStore);
const forgetThumbs = (label: string) => del([userId, label], thumbStore);

/** A small square JPEG data URL, centre-cropped. */
function thumbnail(source: CanvasImageSource, width: number, height: number): string {
  const canvas = el('canvas', { width: THUMB_SIDE, height: THUMB_SIDE });
  const side = Math.min(width, height);
  canvas.getContext('2d')!.drawImage(source, (width - side) / 2, (height - side) / 2, side, side, 0, 0, THUMB_SIDE, THUMB_SIDE);
  return canvas.toDataURL('image/jpeg', 0.8);
}

async function fileThumbnail(file: Blob): Promise<string> {
  const bitmap = await createImageBitmap(file);
  try {
    return thumbnail(bitmap, bitmap.width, bitmap.height);
  } finally {
    bitmap.close();
  }
}

// ---------------------------------------------------------------- classes

let clf: BrowserClassifier;

async function renderClasses(): Promise<void> {
  const classes = clf.listClasses();
  const cards = await Promise.all(classes.map(async ({ label, count }) => classCard(label, count, await thumbsOf(label))));
  $('class-list').replaceChildren(...cards);
  $('no-classes').hidden = classes.length > 0;
  const info = clf.info();
  $('info').textContent = `${plural(info.classes, 'class', 'classes')} · ${plural(info.examples, 'example')} · ${info.dim}-d embeddings · user “${info.userId}”`;
}

function classCard(label: string, count: number, thumbs: string[]): HTMLLIElement {
  const name = el('button', { type: 'button', className: 'name', textContent: label, title: 'Add more examples to this class', testid: 'class-name' });
  name.addEventListener('click', () => {
    $<HTMLInputElement>('label-input').value = label;
    $<HTMLInputElement>('label-input').focus();
  });
  const remove = el('button', { type: 'button', className: 'delete', textContent: '×', title: `Delete “${label}”`, testid: 'class-delete' });
  remove.setAttribute('aria-label', `Delete class ${label}`);
  remove.addEventListener('click', () => void deleteClass(label));
  const images = thumbs.slice(0, 8).map((src) => el('img', { src, alt: '', loading: 'lazy', width: 56, height: 56 }));
  const card = el('li', { className: 'card', testid: 'class-card' }, [
    el('div', { className: 'card-head' }, [name, el('span', { className: 'count', textContent: plural(count, 'example') }), remove]),
    el('div', { className: 'thumbs' }, images),
  ]);
  card.dataset.label = label;
  card.style.setProperty('--hue', String(hueOf(label)));
  return card;
}

async function deleteClass(label: string): Promise<void> {
  try {
    const removed = await clf.removeClass(label);
    await forgetThumbs(label);
    setStatus(`Deleted “${label}” and its ${plural(removed, 'example')}.`);
  } catch (err) {
    setStatus(messageOf(err), 'error');
  }
  await refresh();
}

/** After any change: redraw the cards and re-classify the photo on show. */
async function refresh(): Promise<void> {
  await renderClasses();
  if (stage === 'photo') await classifyPhoto();
  else if (stage === 'none' || clf.listClasses().length === 0) showPrediction(null);
}

// ---------------------------------------------------------------- teaching

function labelOrComplain(): string | null {
  const input = $<HTMLInputElement>('label-input');
  const label = input.value.trim();
  if (label) return label;
  setStatus('Give the class a name first.', 'error');
  input.focus();
  return null;
}

async function teachFiles(files: File[]): Promise<void> {
  const label = labelOrComplain();
  if (!label || files.length === 0) return;
  const failed: string[] = [];
  let learnt = 0;
  for (const [i, file] of files.entries()) {
    setStatus(`Learning “${label}”: photo ${i + 1} of ${files.length}…`, 'busy');
    try {
      const added = await clf.addExample(label, file);
      await addThumb(added.label, await fileThumbnail(file));
      learnt += 1;
    } catch (err) {
      if (isFewshotError(err, 'INVALID_LABEL')) return setStatus(messageOf(err), 'error');
      failed.push(`${file.name}: ${messageOf(err)}`);
    }
    if (i === 0 || i === files.length - 1) await renderClasses();
  }
  await refresh();
  const done = learnt ? `Learnt ${plural(learnt, 'photo')} of “${label}”.` : '';
  setStatus(failed.length ? `${done} Could not learn ${failed.join(' ')}`.trim() : done, failed.length ? 'error' : 'info');
}

async function teachFrame(): Promise<void> {
  const label = labelOrComplain();
  const video = $<HTMLVideoElement>('camera-video');
  if (!label || !stream || video.readyState < 2) return;
  const frame = el('canvas', { width: video.videoWidth, height: video.videoHeight });
  frame.getContext('2d')!.drawImage(video, 0, 0);
  try {
    const added = await clf.addExample(label, frame);
    await addThumb(added.label, thumbnail(frame, frame.width, frame.height));
    setStatus(`“${added.label}” has ${plural(added.count, 'example')}.`);
  } catch (err) {
    setStatus(messageOf(err), 'error');
  }
  await renderClasses();
}

/** Press to add one frame; hold to keep adding about three a second. */
function wireHoldToAdd(button: HTMLButtonElement): void {
  let held = false;
  let running = false;
  const release = () => (held = false);
  button.addEventListener('pointerdown', async () => {
    held = true;
    if (running) return; // the loop of an earlier press is still going: it continues while held
    running = true;
    while (held) {
      await teachFrame();
      if (held) await sleep(300);
    }
    running = false;
  });
  for (const type of ['pointerup', 'pointerleave', 'pointercancel'] as const) button.addEventListener(type, release);
  button.addEventListener('click', (e) => e.detail === 0 && void teachFrame()); // keyboard
}

// ---------------------------------------------------------------- predictions

function showPrediction(p: Prediction | null): void {
  const box = $('prediction');
  const none = clf?.listClasses().length === 0;
  box.classList.toggle('empty', !p);
  box.classList.toggle('unknown', !!p?.unknown);
  box.dataset.label = p ? (p.unknown ? '' : p.label) : '';
  $('prediction-label').textContent = !p ? '—' : p.unknown ? 'Unknown' : p.label;
  $('prediction-confidence').textContent = !p ? '' : p.unknown ? `closest: ${p.label}` : percent(p.confidence);
  $('prediction-hint').textContent = !p
    ? none || !clf
      ? 'Teach at least one class, then show it something.'
      : 'Start the camera or pick a photo to classify it.'
    : p.unknown
      ? `Not like anything taught (similarity ${p.similarity.toFixed(2)}). Teach it as a new class?`
      : `similarity ${p.similarity.toFixed(2)}${clf.info().calibration.heldOut === 0 ? ' · rough confidence until the classes have more examples' : ''}`;
  $('prediction-bars').replaceChildren(...(p?.scores ?? []).map((s) => scoreBar(s.label, s.score, !p!.unknown && s.label === p!.label)));
}

function scoreBar(label: string, score: number, best: boolean): HTMLLIElement {
  const fill = el('i');
  fill.style.width = percent(score);
  const row = el('li', { className: best ? 'best' : '' }, [el('span', { className: 'bar-label', textContent: label }), el('span', { className: 'bar' }, [fill]), el('span', { className: 'bar-value', textContent: percent(score) })]);
  row.style.setProperty('--hue', String(hueOf(label)));
  return row;
}

// ---------------------------------------------------------------- the stage: camera or photo

let stage: 'none' | 'camera' | 'photo' = 'none';
let stream: MediaStream | null = null;
let photoUrl = '';

function showStage(kind: typeof stage): void {
  stage = kind;
  $('camera-video').hidden = kind !== 'camera';
  $('preview-image').hidden = kind !== 'photo';
  $('stage').dataset.showing = kind;
}

function cameraProblem(err: unknown): string {
  const name = err instanceof DOMException ? err.name : '';
  if (name === 'NotAllowedError') return 'Camera access was denied. Allow it in the browser, or use photos instead.';
  if (name === 'NotFoundError' || name === 'OverconstrainedError') return 'No camera found on this device: use photos instead.';
  if (name === 'NotReadableError') return 'The camera is busy in another app. Close it and try again, or use photos.';
  return `The camera could not start (${messageOf(err)}). Use photos instead.`;
}

async function startCamera(): Promise<void> {
  const button = $<HTMLButtonElement>('camera-button');
  if (!navigator.mediaDevices?.getUserMedia) {
    button.disabled = true;
    return setStatus('No camera access here (it needs https or localhost). Use photos instead.', 'error');
  }
  setStatus('Starting the camera…', 'busy');
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: { ideal: 'environment' }, width: { ideal: 640 } }, audio: false });
  } catch (err) {
    return setStatus(cameraProblem(err), 'error');
  }
  const video = $<HTMLVideoElement>('camera-video');
  video.srcObject = stream;
  video.classList.toggle('mirrored', stream.getVideoTracks()[0]?.getSettings().facingMode !== 'environment');
  await video.play().catch(() => undefined);
  showStage('camera');
  button.textContent = 'Stop camera';
  $<HTMLButtonElement>('camera-add-button').disabled = false;
  setStatus('Camera on: name a class and hold “Add camera frame”.');
  void liveLoop(stream);
}

function stopCamera(): void {
  if (!stream) return;
  for (const track of stream.getTracks()) track.stop();
  stream = null;
  $<HTMLVideoElement>('camera-video').srcObject = null;
  $('camera-button').textContent = 'Start camera';
  $<HTMLButtonElement>('camera-add-button').disabled = true;
  if (stage === 'camera') showStage('none');
  showPrediction(null);
}

/** Classifies the live frame, one at a time, as fast as the device manages (at most ~10 a second). */
async function liveLoop(own: MediaStream): Promise<void> {
  const video = $<HTMLVideoElement>('camera-video');
  while (stream === own) {
    const started = performance.now();
    if (clf.listClasses().length > 0 && video.readyState >= 2) {
      try {
        const p = await clf.classify(video);
        if (stream === own) showPrediction(p);
      } catch (err) {
        setStatus(messageOf(err), 'error');
        await sleep(1000);
      }
    }
    await sleep(Math.max(16, 100 - (performance.now() - started)));
  }
}

async function showPhoto(file: File): Promise<void> {
  stopCamera();
  const image = $<HTMLImageElement>('preview-image');
  if (photoUrl) URL.revokeObjectURL(photoUrl);
  photoUrl = URL.createObjectURL(file);
  image.src = photoUrl;
  try {
    await image.decode();
  } catch {
    showStage('none');
    return setStatus(`${file.name} is not an image this browser can read.`, 'error');
  }
  showStage('photo');
  await classifyPhoto();
}

async function classifyPhoto(): Promise<void> {
  if (clf.listClasses().length === 0) return showPrediction(null);
  try {
    showPrediction(await clf.classify($<HTMLImageElement>('preview-image')));
  } catch (err) {
    setStatus(messageOf(err), 'error');
  }
}

// ---------------------------------------------------------------- wiring

const imagesOf = (list: FileList | null | undefined) => [...(list ?? [])].filter((f) => f.type.startsWith('image/') || f.type === '');

function onFiles(input: HTMLInputElement, use: (files: File[]) => Promise<void>): void {
  input.addEventListener('change', async () => {
    const files = imagesOf(input.files);
    await use(files);
    input.value = ''; // choosing the same file again fires `change` again
  });
}

function onDrop(zone: HTMLElement, use: (files: File[]) => Promise<void>): void {
  zone.addEventListener('dragover', (e) => {
    e.preventDefault();
    zone.classList.add('dragging');
  });
  zone.addEventListener('dragleave', () => zone.classList.remove('dragging'));
  zone.addEventListener('drop', (e) => {
    e.preventDefault();
    zone.classList.remove('dragging');
    void use(imagesOf(e.dataTransfer?.files));
  });
}

/** Keyboard users can open the file pickers styled as buttons. */
function wireFileButtons(): void {
  for (const label of document.querySelectorAll<HTMLLabelElement>('label.button')) {
    label.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' || e.key === ' ') {
        e.preventDefault();
        label.querySelector('input')?.click();
      }
    });
  }
}

function wireUserSwitch(): void {
  const input = $<HTMLInputElement>('user-input');
  input.value = userId;
  $('user-form').addEventListener('submit', (e) => {
    e.preventDefault();
    input.blur();
  });
  input.addEventListener('change', () => {
    const next = input.value.trim();
    if (!next || next === userId) return;
    localStorage.setItem(USER_KEY, next);
    const url = new URL(location.href);
    url.searchParams.set('user', next);
    location.assign(url);
  });
}

async function exportExamples(): Promise<void> {
  const blob = new Blob([JSON.stringify(await clf.export())], { type: 'application/json' });
  const link = el('a', { href: URL.createObjectURL(blob), download: `fewshot-${userId}-${modelName}.json` });
  link.click();
  setTimeout(() => URL.revokeObjectURL(link.href), 1000);
}

function wire(): void {
  $('camera-button').addEventListener('click', () => (stream ? stopCamera() : void startCamera()));
  wireHoldToAdd($<HTMLButtonElement>('camera-add-button'));
  onFiles($<HTMLInputElement>('teach-file-input'), teachFiles);
  onFiles($<HTMLInputElement>('classify-file-input'), async (files) => files[0] && showPhoto(files[0]));
  onDrop(document.querySelector<HTMLElement>('.panel.teach')!, teachFiles);
  onDrop(document.querySelector<HTMLElement>('.panel.see')!, async (files) => files[0] && showPhoto(files[0]));
  $('teach-form').addEventListener('submit', (e) => e.preventDefault());
  $('export-button').addEventListener('click', () => void exportExamples());
  wireFileButtons();
}

async function start(): Promise<void> {
  wireUserSwitch();
  localStorage.setItem(USER_KEY, userId);
  setStatus('Loading the model…', 'busy');
  $('model-badge').textContent = modelName;
  try {
    clf = await createClassifier({
      userId,
      model: { name: modelName, url: `${import.meta.env.BASE_URL}models/${MODELS[modelName].folder}/model.json` },
      backend: backendChoice as BackendChoice,
      wasmPaths: WASM_PATHS,
      onChange: () => void refresh(), // another tab changed this user's classes
    });
  } catch (err) {
    $('backend-badge').textContent = 'not started';
    $('backend-badge').dataset.backend = 'failed';
    return setStatus(`Could not start: ${messageOf(err)}`, 'error');
  }
  const info = clf.info();
  $('backend-badge').textContent = info.backend;
  $('backend-badge').dataset.backend = info.backend;
  $('model-badge').textContent = info.model;
  wire();
  await refresh();
  document.body.dataset.ready = 'true';
  setStatus(info.classes ? `Welcome back: ${info.classes} classes loaded.` : 'Ready. Name a class and add a few photos of it.');
}

void start();
