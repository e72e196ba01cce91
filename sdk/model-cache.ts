import * as tf from '@tensorflow/tfjs-core';

const PREFIX = 'fewshot-edge-model/';

/**
 * A model source that loads from `network` once, then from IndexedDB (tfjs's `indexeddb://` store) under
 * the model's name and version, so the app starts and classifies offline. Another version loads from the
 * network again and deletes the cached copies of other versions of the same model. If the cache cannot
 * be written (private mode, full disk), the model still loads from the network.
 */
export function cachedModelSource(network: tf.io.IOHandler, model: string, version: string): tf.io.IOHandler {
  const key = `${PREFIX}${model}@${version}`;
  return {
    load: async () => {
      const cached = await loadCached(key);
      if (cached) return cached;
      const artifacts = await network.load!();
      try {
        await tf.io.getSaveHandlers(`indexeddb://${key}`)[0]!.save!(artifacts);
        await removeOtherVersions(model, key);
      } catch (err) {
        console.warn(`fewshot-edge: the model could not be cached for offline use: ${String(err)}`);
      }
      return artifacts;
    },
  };
}

async function loadCached(key: string): Promise<tf.io.ModelArtifacts | undefined> {
  try {
    const models = await tf.io.listModels();
    if (!(`indexeddb://${key}` in models)) return undefined;
    return await tf.io.getLoadHandlers(`indexeddb://${key}`)[0]!.load!();
  } catch {
    return undefined; // no IndexedDB (or a broken copy): load from the network
  }
}

async function removeOtherVersions(model: string, keep: string): Promise<void> {
  const stale = Object.keys(await tf.io.listModels()).filter((url) => url.startsWith(`indexeddb://${PREFIX}${model}@`) && url !== `indexeddb://${keep}`);
  await Promise.all(stale.map((url) => tf.io.removeModel(url)));
}
