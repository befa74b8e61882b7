// Photos: taken with the phone's camera, resized on the phone (long edge at most 2048 px,
// JPEG, orientation kept), hashed with SHA-256, stamped with time and, where allowed, place.
const MAX_EDGE = 2048;
const QUALITY = 0.8;

export async function sha256Hex(blob) {
  const digest = await crypto.subtle.digest("SHA-256", await blob.arrayBuffer());
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function scaled(width, height) {
  const scale = Math.min(1, MAX_EDGE / Math.max(width, height));
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

// `imageOrientation: "from-image"` applies the EXIF rotation, so the stored JPEG (which
// carries no EXIF) looks the way the technician held the phone.
async function decode(file) {
  if (window.createImageBitmap) {
    try { return await createImageBitmap(file, { imageOrientation: "from-image" }); } catch (_error) { /* fall through */ }
  }
  const url = URL.createObjectURL(file);
  try {
    const image = new Image();
    image.decoding = "async";
    image.src = url;
    await image.decode();
    return image;
  } finally {
    URL.revokeObjectURL(url);
  }
}

export async function processPhoto(file) {
  const source = await decode(file);
  const { width, height } = scaled(source.width, source.height);
  // The target is never larger than 2048x2048 (about 4 MP), well under iOS's canvas cap.
  const canvas = document.createElement("canvas");
  canvas.width = width;
  canvas.height = height;
  const context = canvas.getContext("2d");
  context.imageSmoothingQuality = "high";
  context.drawImage(source, 0, 0, width, height);
  if (source.close) source.close();
  const blob = await new Promise((resolve, reject) => canvas.toBlob((b) => (b ? resolve(b) : reject(new Error("encode"))), "image/jpeg", QUALITY));
  canvas.width = canvas.height = 0;
  return { blob, sha256: await sha256Hex(blob), width, height, taken_at: new Date(file.lastModified || Date.now()).toISOString() };
}

// The phone's position if the technician allowed it, quickly, never blocking the photo.
export function position(timeout = 3000) {
  return new Promise((resolve) => {
    if (!navigator.geolocation) { resolve(null); return; }
    const timer = setTimeout(() => resolve(null), timeout + 500);
    navigator.geolocation.getCurrentPosition(
      (p) => { clearTimeout(timer); resolve({ lat: p.coords.latitude, lng: p.coords.longitude }); },
      () => { clearTimeout(timer); resolve(null); },
      { enableHighAccuracy: false, timeout, maximumAge: 5 * 60 * 1000 },
    );
  });
}
