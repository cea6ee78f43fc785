import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parseCli, UsageError } from './cli.ts';
import { DEFAULT_DETECTOR } from './detector-protocol.ts';

const required = ['--in', 'in.mp4', '--out', 'out.mp4'];

/** Expects parsing to fail with a UsageError whose message names `option`. */
function refuses(argv: string[], option: string | RegExp): void {
  try {
    parseCli(argv);
  } catch (error) {
    assert.instance(error, UsageError, `${argv.join(' ')}: ${String(error)}`);
    if (typeof option === 'string') {
      assert.ok(
        (error as Error).message.includes(option),
        `"${(error as Error).message}" does not name ${option}`,
      );
    } else assert.match((error as Error).message, option);
    return;
  }
  assert.unreachable(`${argv.join(' ')} was accepted`);
}

const parsing = suite('parseCli');

parsing('fills in every default', () => {
  assert.equal(parseCli(required), {
    input: 'in.mp4',
    output: 'out.mp4',
    faces: 'auto',
    recipe: undefined,
    style: 'blur',
    strength: 60,
    padding: 0.3,
    ranges: [],
    removeAudio: false,
    analysis: undefined,
    minFace: DEFAULT_DETECTOR.minFace,
    step: DEFAULT_DETECTOR.step,
    scanEvery: DEFAULT_DETECTOR.scanEvery,
    quiet: false,
  });
});

parsing('reads every option', () => {
  const options = parseCli([
    ...required,
    '--faces',
    'none',
    '--recipe',
    'recipe.json',
    '--style',
    'pixelate',
    '--strength',
    '100',
    '--padding',
    '0',
    '--mute',
    '1-2.5',
    '--mute',
    '10-11',
    '--tone',
    '3.25-4',
    '--remove-audio',
    '--analysis',
    'faces.json',
    '--min-face',
    '16',
    '--step',
    '2',
    '--scan-every',
    '30',
    '--quiet',
  ]);
  assert.equal(options, {
    input: 'in.mp4',
    output: 'out.mp4',
    faces: 'none',
    recipe: 'recipe.json',
    style: 'pixelate',
    strength: 100,
    padding: 0,
    ranges: [
      { start: 1, end: 2.5, mode: 'mute' },
      { start: 10, end: 11, mode: 'mute' },
      { start: 3.25, end: 4, mode: 'tone' },
    ],
    removeAudio: true,
    analysis: 'faces.json',
    minFace: 16,
    step: 2,
    scanEvery: 30,
    quiet: true,
  });
});

parsing('answers --help with the usage, whatever else is given', () => {
  assert.is(parseCli(['--help']), 'help');
  assert.is(parseCli(['--help', '--faces', 'x']), 'help');
});

parsing('requires --in and --out', () => {
  refuses(['--out', 'out.mp4'], '--in');
  refuses(['--in', 'in.mp4'], '--out');
  refuses(['--in', '', '--out', 'out.mp4'], '--in');
});

parsing('refuses a bad --faces or --style', () => {
  refuses([...required, '--faces', 'x'], '--faces');
  refuses([...required, '--style', 'x'], '--style');
  refuses([...required, '--style', 'Blur'], '--style');
});

parsing('refuses a --strength outside 1-100 or not a number', () => {
  for (const value of ['0', '101', 'abc', '', ' ', '-5', 'Infinity']) {
    refuses([...required, '--strength', value], '--strength');
  }
});

parsing('refuses a bad --padding, --min-face, --step or --scan-every', () => {
  refuses([...required, '--padding', '3'], '--padding');
  refuses([...required, '--padding', ''], '--padding');
  refuses([...required, '--min-face', '4'], '--min-face');
  refuses([...required, '--min-face', '0x20'], '--min-face');
  refuses([...required, '--step', '0'], '--step');
  refuses([...required, '--step', '2.5'], '--step');
  refuses([...required, '--scan-every', '1e9'], '--scan-every');
});

parsing('refuses a range that ends before it starts, or is not a range', () => {
  refuses([...required, '--mute', '5-3'], '--mute');
  refuses([...required, '--mute', '3-3'], '--mute');
  refuses([...required, '--tone', '3'], '--tone');
  refuses([...required, '--tone', '-1-3'], '--tone');
});

parsing('refuses to write over the input', () => {
  refuses(['--in', 'clip.mp4', '--out', './clip.mp4'], '--out');
  refuses([...required, '--analysis', 'in.mp4'], '--analysis');
  refuses([...required, '--analysis', 'out.mp4'], '--analysis');
  refuses([...required, '--recipe', 'out.mp4'], '--out');
});

parsing('refuses an unknown option, a missing value and a stray argument, naming them', () => {
  refuses([...required, '--blur'], '--blur');
  refuses([...required, '--faces'], '--faces');
  refuses([...required, 'extra.mp4'], 'extra.mp4');
});

parsing.run();
