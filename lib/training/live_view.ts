/**
 * A live view of training: in a notebook, two outputs updated in place, instead of a wall of
 * lines: a progress line (the current epoch's steps, its loss and accuracy so far, and the time
 * left for the run), updated a few times a second, and after each epoch a chart that grows.
 * Elsewhere, a plain progress line per epoch.
 *
 * Nothing here calls `Deno.jupyter`: the notebook passes its display function in, e.g.
 * `signs.liveTrainingView({ display: Deno.jupyter.display })`.
 *
 * @module
 */
import { JUPYTER_DISPLAY, type MimeBundle } from "../display/bundle.ts";
import { statusLineHtml } from "../display/html.ts";
import { linePlot, resetPlotlyEmbedding } from "../display/plot.ts";
import { type BatchProgress, type EpochResult, progressLine } from "./fit.ts";
import { formatDuration } from "../util/format.ts";

/** A display function with the shape of `Deno.jupyter.display`. */
export type DisplayFunction = (
  bundle: MimeBundle,
  options: { raw: boolean; display_id: string; update?: boolean },
) => unknown;

/** Options of {@linkcode liveTrainingView}. */
export interface LiveViewOptions {
  /** The notebook's display function (`Deno.jupyter.display`); without it, lines are printed. */
  display?: DisplayFunction;
  /** Total epochs, for "Epoch 3/20". */
  epochs: number;
  /** Steps per epoch, for the progress line. */
  steps?: number;
  /** A heading for the view. */
  title?: string;
  /** Where lines go without a display function. Default `console.log`. */
  log?: (line: string) => void;
  /** Fewest seconds between two updates of the chart (the last epoch always shows). Default 1. */
  minSeconds?: number;
  /** Fewest seconds between two updates of the progress line within an epoch. Default 0.25. */
  progressSeconds?: number;
  /** The clock, in milliseconds (tests pass their own). Default `performance.now`. */
  now?: () => number;
}

/** What to pass to `fitModel`: its `log`, `onEpochEnd` and `onBatchEnd` options. */
export interface LiveView {
  /** `null` in a notebook (the view replaces the lines), else the line printer. */
  log: ((line: string) => void) | null;
  /** Updates the view after an epoch. */
  onEpochEnd: (result: EpochResult) => Promise<void>;
  /** Updates the progress line after a step (nothing outside a notebook). */
  onBatchEnd: (progress: BatchProgress) => Promise<void>;
}

/** The progress line: the epoch's step, loss and accuracy so far, and the time left. */
export function progressText(progress: BatchProgress, secondsLeft: number | null): string {
  const { epoch, epochs, step, steps, loss, accuracy } = progress;
  const left = secondsLeft === null ? "" : ` · about ${formatDuration(secondsLeft)} left`;
  return `Epoch ${epoch}/${epochs} · step ${step}/${steps} · loss ${loss.toFixed(4)} · ` +
    `accuracy ${accuracy.toFixed(4)}${left}`;
}

let viewCounter = 0;

/** Builds the MIME bundle of the view for the history so far. */
export function liveViewBundle(result: EpochResult, epochs: number, title: string): MimeBundle {
  const { history, epoch, logs, seconds } = result;
  const series: Record<string, number[]> = { loss: history.loss, accuracy: history.accuracy };
  if (history.val_loss) series.val_loss = history.val_loss;
  if (history.val_accuracy) series.val_accuracy = history.val_accuracy;
  // Each version of the output replaces the previous one, so each carries the Plotly library.
  resetPlotlyEmbedding();
  const chart = linePlot({ x: history.epoch, series, title, xLabel: "Epoch" });
  const chartBundle = (chart as unknown as Record<symbol, () => MimeBundle>)[JUPYTER_DISPLAY]();
  const metrics = ["loss", "accuracy", "val_loss", "val_accuracy"]
    .filter((k) => logs[k] !== undefined)
    .map((k) => `${k} ${logs[k].toFixed(4)}`)
    .join(" · ");
  const status = `Epoch ${epoch}/${epochs} (${seconds.toFixed(1)} s) · ${metrics}`;
  return {
    "application/vnd.plotly.v1+json": chartBundle["application/vnd.plotly.v1+json"],
    "text/html": statusLineHtml(status) + chartBundle["text/html"],
    "text/plain": status,
  };
}

/**
 * A live training view for `fitModel`: spread it into the options,
 * `fitModel(model, x, y, { epochs, ...view })`.
 */
export function liveTrainingView(options: LiveViewOptions): LiveView {
  const { display, epochs } = options;
  if (!Number.isInteger(epochs) || epochs < 1) {
    throw new RangeError(`Cannot show training of ${epochs} epochs: expected a positive integer`);
  }
  const log = options.log ?? console.log;
  if (!display) {
    return {
      log: null,
      onEpochEnd: (r) => {
        log(progressLine(r.epoch, epochs, options.steps ?? 0, r.seconds, r.logs));
        return Promise.resolve();
      },
      onBatchEnd: () => Promise.resolve(),
    };
  }
  if (typeof display !== "function") {
    throw new TypeError(`Cannot show training: display is ${typeof display}, expected a function`);
  }
  const id = `signs-training-${Date.now().toString(36)}-${++viewCounter}`;
  const minSeconds = options.minSeconds ?? 1;
  const progressSeconds = options.progressSeconds ?? 0.25;
  const now = options.now ?? (() => performance.now());
  // The time left is the run's seconds per step so far (validation and checkpoints included)
  // times the steps to go.
  const start = now();
  let stepsDone = 0;
  let progressShown = false;
  let lastProgress = -Infinity;
  const showProgress = async (text: string) => {
    const bundle = { "text/plain": text, "text/html": statusLineHtml(text) };
    await display(bundle, {
      raw: true,
      display_id: `${id}-progress`,
      update: progressShown || undefined,
    });
    progressShown = true;
  };
  let shown = false;
  let lastUpdate = 0;
  return {
    log: null,
    async onBatchEnd(progress) {
      stepsDone++;
      const t = now();
      if ((t - lastProgress) / 1000 < progressSeconds && progress.step < progress.steps) return;
      lastProgress = t;
      const toGo = (progress.epochs - progress.epoch) * progress.steps + progress.steps -
        progress.step;
      await showProgress(progressText(progress, ((t - start) / 1000 / stepsDone) * toGo));
    },
    async onEpochEnd(result) {
      const seconds = now() / 1000;
      if (progressShown && result.epoch === epochs) {
        await showProgress(
          `Training done: epoch ${epochs}/${epochs} in ${formatDuration(seconds - start / 1000)}`,
        );
      }
      if (shown && result.epoch < epochs && seconds - lastUpdate < minSeconds) return;
      const bundle = liveViewBundle(result, epochs, options.title ?? "Training");
      await display(bundle, { raw: true, display_id: id, update: shown || undefined });
      shown = true;
      lastUpdate = seconds;
    },
  };
}
