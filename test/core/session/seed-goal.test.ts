import { describe, expect, it } from 'vitest';
import { seedGoalMet, seedsAfterCompletion } from '../../../src/core/session/seed-goal.ts';

const MiB = 1024 * 1024;
const completedAt = 1_000_000;
const progress = (uploaded: number, downloaded = 10 * MiB) => ({
  completedAt,
  uploaded,
  downloaded,
  wantedTotal: 10 * MiB,
});

describe('seeding goals', () => {
  it('seeds after completion only when a goal or forever was asked for', () => {
    expect(seedsAfterCompletion({})).toBe(false);
    expect(seedsAfterCompletion({ seedTimeMs: 0 })).toBe(true);
    expect(seedsAfterCompletion({ seedRatio: 0 })).toBe(true);
    expect(seedsAfterCompletion({ seedForever: true })).toBe(true);
  });

  it('never ends seeding forever, whatever was uploaded', () => {
    expect(seedGoalMet({ seedForever: true }, progress(100 * MiB), completedAt + 1e9)).toBe(false);
  });

  it('ends at the seed time, counted from completion', () => {
    const goal = { seedTimeMs: 60_000 };
    expect(seedGoalMet(goal, progress(0), completedAt + 59_999)).toBe(false);
    expect(seedGoalMet(goal, progress(0), completedAt + 60_000)).toBe(true);
  });

  it('ends at the ratio of what this session downloaded', () => {
    const goal = { seedRatio: 1.5 };
    expect(seedGoalMet(goal, progress(15 * MiB - 1), completedAt)).toBe(false);
    expect(seedGoalMet(goal, progress(15 * MiB), completedAt)).toBe(true);
  });

  it('takes the ratio against the whole data when it was already here (seeding what we had)', () => {
    const goal = { seedRatio: 1 };
    expect(seedGoalMet(goal, progress(10 * MiB - 1, 0), completedAt)).toBe(false);
    expect(seedGoalMet(goal, progress(10 * MiB, 0), completedAt)).toBe(true);
  });

  it('ends on whichever of time and ratio comes first', () => {
    const goal = { seedTimeMs: 60_000, seedRatio: 2 };
    expect(seedGoalMet(goal, progress(20 * MiB), completedAt + 1)).toBe(true);
    expect(seedGoalMet(goal, progress(0), completedAt + 60_000)).toBe(true);
    expect(seedGoalMet(goal, progress(0), completedAt + 1)).toBe(false);
  });
});
