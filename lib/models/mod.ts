/**
 * The course's models: the baseline ConvNet, the identity and convolutional blocks, ResNet-50, and
 * the self-checks that test a learner's own blocks and models against the course's, and the
 * course's "why" measured: the gradient reaching each block with and without shortcuts, and what
 * the 1x1 bottleneck saves.
 *
 * @module
 */
export * from "./baseline.ts";
export * from "./block_gradients.ts";
export * from "./bottleneck.ts";
export * from "./resnet.ts";
export * from "./self_check.ts";
