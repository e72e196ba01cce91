// The page the browser tests drive: it exposes the SDK as the app would import it.
import * as sdk from '../../sdk/index.js';

declare global {
  interface Window {
    sdk: typeof sdk;
    sdkReady: true;
  }
}

window.sdk = sdk;
window.sdkReady = true;
