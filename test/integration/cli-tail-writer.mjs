// A log writer in its own process, as a real application is: it appends numbered lines to its
// files at a fixed rate through O_APPEND descriptors, round-robin over the files, and exits when it
// has written them all. On the IPC message 'reopen' it reopens its files by name (a logger's answer
// to logrotate's postrotate HUP); on 'pause' it stops writing and answers 'paused', until 'resume'.
// argv: linesPerSecond totalLines file...
import { closeSync, openSync, writeSync } from 'node:fs';

const [rate, total, ...files] = process.argv.slice(2);
const linesPerSecond = Number(rate);
const lines = Number(total);
let descriptors = files.map((file) => openSync(file, 'a'));
let paused = false;
let written = 0;
const padding = 'x'.repeat(60);
process.on('message', (message) => {
  if (message === 'reopen') {
    for (const fd of descriptors) closeSync(fd);
    descriptors = files.map((file) => openSync(file, 'a'));
  } else if (message === 'pause') {
    paused = true;
    process.send('paused');
  } else if (message === 'resume') {
    paused = false;
  }
});
const started = Date.now();
const tick = () => {
  if (!paused) {
    const due = Math.min(lines, Math.floor(((Date.now() - started) / 1000) * linesPerSecond));
    while (written < due) {
      const index = written % descriptors.length;
      writeSync(descriptors[index], `line ${written} of ${files[index]} ${padding}\n`);
      written++;
    }
  }
  if (written < lines) setTimeout(tick, 5);
  else {
    for (const fd of descriptors) closeSync(fd);
    process.disconnect?.();
  }
};
tick();
