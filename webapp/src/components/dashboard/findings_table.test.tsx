import {act, render, screen} from '@testing-library/react';
import React from 'react';

import {makeFinding} from '../../test/fake_bridge';

import {FindingsTable, ROWS_PER_STEP} from './findings_table';

describe('FindingsTable with thousands of findings', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('draws the first rows at once and the rest in steps, leaving none out', () => {
    const items = Array.from({length: 2 * ROWS_PER_STEP + 7}, (_, i) => makeFinding({host: `h${i}.example.com`, port: 443}));
    render(
      <FindingsTable
        items={items}
        sort={{column: null, direction: 'descending'}}
        onSort={() => undefined}
        selected={new Set()}
        onSelect={() => undefined}
        onSelectAll={() => undefined}
        current={null}
        onOpen={() => undefined}
        now={Date.now()}
      />,
    );
    // One header row plus the first step.
    expect(screen.getAllByRole('row')).toHaveLength(1 + ROWS_PER_STEP);
    // Each step is one timer; React schedules the next once it has drawn this one.
    for (let step = 0; step < 10 && screen.getAllByRole('row').length < 1 + items.length; step++) {
      act(() => {
        jest.runOnlyPendingTimers();
      });
    }
    expect(screen.getAllByRole('row')).toHaveLength(1 + items.length);
    expect(screen.getByText(`h${items.length - 1}.example.com`)).toBeInTheDocument();
  });
});
