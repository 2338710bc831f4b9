import {render} from '@testing-library/react';
import React from 'react';

import type {Plan} from '../../../../common/types';
import {PlanText} from './plan_text';

const plan = (text: string): Plan => ({key: 'k:443', action: 'add', entries: [], allowedBy: null, text});

test('names and commands in backticks are code, exactly as they run; the rest is text', () => {
  const {container} = render(
    <PlanText plan={plan('Add the entry `hooks-example-com-443` of the suggested YAML: it allows `hooks.example.com` on port 443 (TLS).')} />,
  );
  expect([...container.querySelectorAll('code')].map((c) => c.textContent)).toEqual(['hooks-example-com-443', 'hooks.example.com']);
  expect(container.textContent).toBe('Add the entry hooks-example-com-443 of the suggested YAML: it allows hooks.example.com on port 443 (TLS).');
  expect(container.querySelector('p')?.dataset.planAction).toBe('add');
});

test('markup in a plan (from a hostile host name) stays text', () => {
  const {container} = render(<PlanText plan={plan('Allow `<img src=x onerror=alert(1)>.example` and **[x](javascript:alert(1))**.')} />);
  expect(container.querySelector('img')).toBeNull();
  expect(container.querySelector('a')).toBeNull();
  expect(container.querySelector('code')?.textContent).toBe('<img src=x onerror=alert(1)>.example');
  expect(container.textContent).toContain('**[x](javascript:alert(1))**');
});
