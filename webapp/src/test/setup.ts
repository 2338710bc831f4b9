// Set-up for the webapp's jest project (jsdom).
import '@testing-library/jest-dom';
import {configure} from '@testing-library/react';

// findBy*/waitFor give up after 1 s by default; on a loaded two-core CI machine a reload that goes
// through the fake bridge, a debounce and a React render can take longer than that. The assertions
// stay the same, only the patience grows.
configure({asyncUtilTimeout: 5000});

// userEvent steps through real timers; under CI load a test of several steps needs more than jest's 5 s.
// Set here because jest reads `testTimeout` only from the top level of its configuration, not per project.
jest.setTimeout(30_000);
