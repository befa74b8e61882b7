// The customer's signature on a full-width canvas (signature_pad), saved as a PNG blob.
import { sha256Hex } from "./camera.js";

let SignaturePad = null;

// signature_pad is fetched when a screen with a pad opens, not before the first screen (the
// service worker holds it, so this works offline too). Awaited before the screen is drawn,
// so the pad is live the moment the canvas shows and no stroke is lost.
export async function loadSignaturePad() {
  if (!SignaturePad) ({ default: SignaturePad } = await import("/static/vendor/signature_pad/signature_pad.js"));
}

export function mountSignaturePad(canvas) {
  const pad = new SignaturePad(canvas, { minWidth: 1.2, maxWidth: 3.5, penColor: "#111", backgroundColor: "rgb(255,255,255)" });
  // Match the canvas to its on-screen size and the screen's pixel density, keeping strokes.
  const fit = () => {
    const ratio = Math.max(window.devicePixelRatio || 1, 1);
    const data = pad.toData();
    canvas.width = canvas.offsetWidth * ratio;
    canvas.height = canvas.offsetHeight * ratio;
    canvas.getContext("2d").scale(ratio, ratio);
    pad.clear();
    pad.fromData(data);
  };
  fit();
  window.addEventListener("resize", fit);
  return {
    pad,
    isEmpty: () => pad.isEmpty(),
    clear: () => pad.clear(),
    destroy: () => { window.removeEventListener("resize", fit); pad.off(); },
    async toPng() {
      const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/png"));
      return { blob, sha256: await sha256Hex(blob) };
    },
  };
}
