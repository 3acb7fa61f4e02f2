// The backward pass of a training step, freeing memory as it goes.
//
// TF.js's `engine.gradients` walks the tape from the loss back to the weights and keeps every
// tensor it meets until the walk ends: each layer's output gradient, and each kernel's saved
// inputs. For ResNet-50 at batch 32 that is a few hundred megabytes more at the end of each step
// than the walk needs at any one time. Here the walk is the same, kernel by kernel and in the same
// order (so the gradients are the same numbers), but a kernel's output gradients and saved tensors
// are disposed as soon as its own gradient has been computed: nothing later reads them.
//
// It replaces `gradients` on TF.js's engine (the one function behind `tf.grads`, `tf.variableGrads`
// and every optimizer's `minimize`) and relies on the engine's tape as TF.js 4.22 keeps it. Only
// first-order gradients take it: inside another gradient computation the original runs.
import * as tf from "../tf.ts";

/** A kernel call on TF.js's tape. */
interface TapeNode {
  id: number;
  kernelName: string;
  inputs: Record<string, tf.Tensor>;
  outputs: tf.Tensor[];
  saved?: tf.Tensor[];
  gradient?: (dys: (tf.Tensor | null)[]) => Record<string, () => tf.Tensor>;
}

/** The parts of TF.js's engine this module uses. */
interface EngineInternals {
  state: { activeTape: TapeNode[] | null; gradientDepth: number };
  gradients: GradientsFunction;
  scopedRun<T>(start: () => void, end: () => void, f: () => T): T;
  startTape(): void;
  endTape(): void;
  tidy<T extends tf.TensorContainer>(name: string | (() => T), f?: () => T): T;
  constructor: { nextTensorId: number };
}

type GradientsFunction = (
  f: () => tf.Tensor,
  xs: tf.Tensor[],
  dy?: tf.Tensor,
  allowNoGradients?: boolean,
) => { value: tf.Tensor; grads: (tf.Tensor | undefined)[] };

let installed = false;
let originalOnly = 0;

/**
 * Makes TF.js's backward pass free each gradient and saved tensor once it is past them (once per
 * process; every backend).
 */
export function freeTensorsDuringBackwardPass(): void {
  if (installed) return;
  installed = true;
  const engine = tf.engine() as unknown as EngineInternals;
  const original = engine.gradients.bind(engine);
  engine.gradients = (f, xs, dy, allowNoGradients = false) =>
    engine.state.gradientDepth === 0 && originalOnly === 0
      ? gradients(engine, f, xs, dy, allowNoGradients)
      : original(f, xs, dy, allowNoGradients);
}

/**
 * Runs `run` with TF.js's own backward pass, which keeps every gradient and saved tensor until the
 * pass ends (to compare the two).
 */
export async function withOriginalBackwardPass<T>(run: () => T | Promise<T>): Promise<T> {
  originalOnly++;
  try {
    return await run();
  } finally {
    originalOnly--;
  }
}

function gradients(
  engine: EngineInternals,
  f: () => tf.Tensor,
  xs: tf.Tensor[],
  dy: tf.Tensor | undefined,
  allowNoGradients: boolean,
): { value: tf.Tensor; grads: (tf.Tensor | undefined)[] } {
  if (xs.length === 0) throw new Error("gradients() needs at least one tensor to differentiate by");
  if (dy != null && dy.dtype !== "float32") {
    throw new Error(`gradients(): dy must be float32, got ${dy.dtype}`);
  }
  const y = engine.scopedRun(
    () => engine.startTape(),
    () => engine.endTape(),
    () => engine.tidy("forward", f),
  );
  if (!(y instanceof tf.Tensor)) {
    throw new Error("gradients(): the function differentiated must return one tensor");
  }
  const tape = engine.state.activeTape ?? [];
  const path = nodesBetween(tape, xs, y);
  if (!allowNoGradients && path.length === 0) {
    throw new Error(
      "gradients(): the result does not depend on the tensors differentiated by; every " +
        "operation between them must run inside the function",
    );
  }
  return engine.tidy("backward", () => {
    // The gradient of each tensor reached so far, by tensor id. Every value is a tensor of its own
    // (never one that another entry, a saved tensor or the caller holds), so disposing it frees
    // only what the walk made.
    const grads = new Map<number, tf.Tensor>();
    const keep = new Set(xs.map((x) => x.id));
    if (dy != null) keep.add(y.id);
    grads.set(y.id, dy ?? tf.ones(y.shape));
    for (let i = path.length - 1; i >= 0; i--) {
      const node = path[i];
      if (node.gradient == null) {
        throw new Error(`Cannot compute gradient: no gradient function for ${node.kernelName}`);
      }
      const dys = node.outputs.map((output) => grads.get(output.id) ?? null);
      // Tensors made from here on are this node's gradients; an older one (the dy itself, a
      // constant) or one given for two inputs is cloned, which shares its values.
      const firstNew = engine.constructor.nextTensorId;
      const inputGradients = node.gradient(dys);
      const placed = new Set<number>();
      for (const [name, x] of Object.entries(node.inputs)) {
        if (!(name in inputGradients)) {
          throw new Error(
            `Cannot backpropagate through input ${name} of ${node.kernelName}: its gradient ` +
              `gives ${Object.keys(inputGradients).join(", ")}`,
          );
        }
        let dx = engine.tidy(() => inputGradients[name]());
        checkGradient(node, name, dx, x);
        if (dx.id < firstNew || placed.has(dx.id)) dx = tf.clone(dx);
        placed.add(dx.id);
        const previous = grads.get(x.id);
        if (previous == null) {
          grads.set(x.id, dx);
        } else {
          grads.set(x.id, tf.add(previous, dx));
          previous.dispose();
          dx.dispose();
        }
      }
      for (const output of node.outputs) {
        if (keep.has(output.id)) continue;
        grads.get(output.id)?.dispose();
        grads.delete(output.id);
      }
      for (const tensor of node.saved ?? []) tensor.dispose();
    }
    const result = xs.map((x) => grads.get(x.id));
    for (const node of tape) for (const tensor of node.saved ?? []) tensor.dispose();
    engine.state.activeTape = null;
    return { value: y, grads: result as tf.Tensor[] };
  });
}

function checkGradient(node: TapeNode, name: string, dx: tf.Tensor, x: tf.Tensor): void {
  if (dx.dtype !== "float32") {
    throw new Error(
      `Gradient of ${node.kernelName} for input ${name} must be float32, got ${dx.dtype}`,
    );
  }
  if (!tf.util.arraysEqual(dx.shape, x.shape)) {
    throw new Error(
      `Gradient of ${node.kernelName} for input ${name} has shape [${dx.shape}], its input ` +
        `[${x.shape}]`,
    );
  }
}

/**
 * The tape's kernel calls that lie on a path from one of `xs` to `y`, in tape order, each with only
 * those inputs that depend on `xs`.
 */
function nodesBetween(tape: TapeNode[], xs: tf.Tensor[], y: tf.Tensor): TapeNode[] {
  const dependsOnX = new Set(xs.map((x) => x.id));
  const reachedFromX = new Set<number>();
  for (const node of tape) {
    if (Object.values(node.inputs).some((input) => dependsOnX.has(input.id))) {
      reachedFromX.add(node.id);
      for (const output of node.outputs) dependsOnX.add(output.id);
    }
  }
  const leadsToY = new Set([y.id]);
  const path: TapeNode[] = [];
  for (let i = tape.length - 1; i >= 0; i--) {
    const node = tape[i];
    if (!node.outputs.some((output) => leadsToY.has(output.id))) continue;
    for (const input of Object.values(node.inputs)) leadsToY.add(input.id);
    if (!reachedFromX.has(node.id)) continue;
    const inputs = Object.fromEntries(
      Object.entries(node.inputs).filter(([, input]) => dependsOnX.has(input.id)),
    );
    path.push({ ...node, inputs });
  }
  return path.reverse();
}
