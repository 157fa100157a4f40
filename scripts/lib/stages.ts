/** Progress of a long job (soak, drill): each stage with the time since the job began. */

export function stageClock(log: (line: string) => void = console.log) {
  const began = Date.now();
  let lastProgress = 0;
  const stamp = () => `[+${((Date.now() - began) / 1000).toFixed(1)} s]`;
  return {
    start(name: string): void {
      log(`${stamp()} ${name}`);
    },
    /** At most one progress line every 10 s. */
    progress(text: string): void {
      if (Date.now() - lastProgress < 10_000) return;
      lastProgress = Date.now();
      log(`${stamp()}   … ${text}`);
    },
  };
}
