// An image drop zone: drag-and-drop or the file picker inside it. Calls onImage(file, dataUrl) for an image file.
export function dropZone(zone, input, onImage) {
  const take = async (file) => {
    if (!file || !file.type.startsWith('image/')) return;
    onImage(file, await readDataUrl(file));
  };
  zone.addEventListener('dragover', (e) => { e.preventDefault(); zone.classList.add('over'); });
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', (e) => {
    e.preventDefault();
    zone.classList.remove('over');
    take(e.dataTransfer.files[0]);
  });
  input.addEventListener('change', () => take(input.files[0]));
}

export function readDataUrl(blob) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result);
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(blob);
  });
}
