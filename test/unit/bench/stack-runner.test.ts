/**
 * The bench stack process's Node flags (bench/stack-runner.ts): the host defaults first (64 MB
 * semi-spaces for the one process hosting every function and local service), then
 * PAYSTEP_BENCH_STACK_NODE_ARGS, so a flag given there wins.
 */
import { describe, expect, it } from 'vitest';
import { STACK_NODE_FLAGS, stackNodeArgs } from '../../../bench/stack-runner';

describe('bench stack process Node flags', () => {
  it('starts the stack with larger semi-spaces, then the flags of PAYSTEP_BENCH_STACK_NODE_ARGS', () => {
    // Act / Assess
    expect(STACK_NODE_FLAGS).toContain('--max-semi-space-size=64');
    expect(stackNodeArgs({})).toEqual([...STACK_NODE_FLAGS]);
    expect(stackNodeArgs({ PAYSTEP_BENCH_STACK_NODE_ARGS: ' --cpu-prof  --max-semi-space-size=16 ' })).toEqual([
      ...STACK_NODE_FLAGS,
      '--cpu-prof',
      '--max-semi-space-size=16',
    ]);
  });
});
