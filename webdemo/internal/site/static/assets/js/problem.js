// A Problem is an error the page can explain: what happened and what to do about it.
export class Problem extends Error {
  constructor(title, detail, fix) {
    super(`${title}: ${detail}`);
    this.name = 'Problem';
    this.title = title;
    this.detail = detail;
    this.fix = fix;
  }
}

// withTimeout settles with the promise or rejects with onTimeout() after ms, so that no
// call into code we do not control can leave the page waiting forever.
export function withTimeout(promise, ms, onTimeout) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
  });
  return Promise.race([Promise.resolve(promise), timeout]).finally(() => clearTimeout(timer));
}
