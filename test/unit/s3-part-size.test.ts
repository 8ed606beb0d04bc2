import { describe, expect, it } from 'vitest';
import {
  MAX_PARTS,
  MAX_PART,
  MIN_PART,
  MiB,
  choosePartSize,
  partCount,
  partLength,
} from '../../src/main/engine/storage/s3/part-size.js';

const GiB = 1024 * MiB;
const TiB = 1024 * GiB;
const defaults = { min: 16 * MiB, max: 512 * MiB };

describe('choosePartSize', () => {
  const sizes = [
    0,
    1,
    5 * MiB,
    16 * MiB,
    100 * MiB + 7,
    1 * GiB,
    48 * GiB,
    100 * GiB,
    140 * GiB + 3,
    1 * TiB,
    4 * TiB + 1,
    5 * TiB,
  ];

  it.each(sizes)('stays within S3 limits and 10,000 parts for %d bytes', (size) => {
    for (const limits of [
      defaults,
      { min: 5 * MiB, max: 5 * MiB },
      { min: 5 * MiB, max: 5 * GiB },
      { min: 64 * MiB, max: 64 * MiB },
    ]) {
      const part = choosePartSize(size, limits);
      expect(part).toBeGreaterThanOrEqual(MIN_PART);
      expect(part).toBeLessThanOrEqual(MAX_PART);
      expect(part % MiB).toBe(0);
      expect(partCount(size, part)).toBeLessThanOrEqual(MAX_PARTS);
    }
  });

  it('uses the policy minimum for files up to about 9,000 minimum parts', () => {
    expect(choosePartSize(0, defaults)).toBe(16 * MiB);
    expect(choosePartSize(40 * MiB, { min: 5 * MiB, max: 512 * MiB })).toBe(5 * MiB);
    expect(choosePartSize(100 * GiB, defaults)).toBe(16 * MiB);
  });

  it('grows the part with the file: ceil(size / 9000) rounded up to 1 MiB', () => {
    // 200 GiB / 9000 = 22.8 MiB → 23 MiB
    expect(choosePartSize(200 * GiB, defaults)).toBe(23 * MiB);
    expect(choosePartSize(1 * TiB, defaults)).toBe(117 * MiB);
  });

  it('caps at the policy maximum while that still fits 10,000 parts', () => {
    expect(choosePartSize(1 * TiB, { min: 16 * MiB, max: 64 * MiB })).toBe(105 * MiB); // 64 MiB would need 16,384 parts
    expect(choosePartSize(500 * GiB, { min: 16 * MiB, max: 64 * MiB })).toBe(57 * MiB);
    expect(choosePartSize(600 * GiB, { min: 16 * MiB, max: 64 * MiB })).toBe(64 * MiB); // 9,600 parts
    expect(choosePartSize(700 * GiB, { min: 16 * MiB, max: 64 * MiB })).toBe(72 * MiB);
  });

  it('lets the 10,000-part limit override the policy maximum (5 TiB with max 512 MiB)', () => {
    const part = choosePartSize(5 * TiB, defaults);
    expect(part).toBe(525 * MiB);
    expect(partCount(5 * TiB, part)).toBeLessThanOrEqual(MAX_PARTS);
  });

  it('refuses a file that cannot fit in 10,000 parts of 5 GiB', () => {
    expect(() => choosePartSize(MAX_PARTS * MAX_PART + 1, defaults)).toThrow(/does not fit/);
  });
});

describe('partCount and partLength', () => {
  it('cuts a file into full parts and a shorter last part', () => {
    const size = 40 * MiB + 3;
    expect(partCount(size, 5 * MiB)).toBe(9);
    expect(partLength(size, 5 * MiB, 1)).toBe(5 * MiB);
    expect(partLength(size, 5 * MiB, 8)).toBe(5 * MiB);
    expect(partLength(size, 5 * MiB, 9)).toBe(3);
    expect(partCount(0, 5 * MiB)).toBe(1);
  });
});
