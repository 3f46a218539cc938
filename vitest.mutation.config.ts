import { defineConfig } from 'vitest/config';

// The unit tests only (pure code, no Redis): what `npm run mutation` runs against each mutant of src/domain.
export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts'],
    testTimeout: 20_000,
    pool: 'threads',
  },
});
