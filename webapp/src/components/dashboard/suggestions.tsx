import React, {forwardRef, useEffect, useState} from 'react';

import type {SuggestionsResponse} from '../../../../common/api';
import type {SuggestionFormat} from '../../../../common/types';
import type {BridgeClient} from '../../client';
import {FORMAT_LABEL, plural} from '../../utils/words';

import {downloadName, FormatSelect, LeftOut, YamlOutput} from './yaml_output';

interface Props {
  client: BridgeClient;
  /** The selected finding keys; empty for every open finding. */
  keys: string[];
  format: SuggestionFormat;
  onFormat: (format: SuggestionFormat) => void;
  /** Changes when the findings changed on the bridge. */
  refreshToken: number;
}

type Outcome = {id: string; result: SuggestionsResponse} | {id: string; error: string};

/** The YAML that allows the selected destinations (or every open one), in the chosen format. */
export const Suggestions = forwardRef<HTMLHeadingElement, Props>(function Suggestions({client, keys, format, onFormat, refreshToken}, headingRef) {
  // What was asked (format and keys): an outcome for another question is not shown, while a
  // refresh of the same question keeps showing the previous answer until the new one is in.
  const id = `${format}\n${keys.join('\n')}`;
  const [outcome, setOutcome] = useState<Outcome | null>(null);

  useEffect(() => {
    const abort = new AbortController();
    const [fmt, ...list] = id.split('\n');
    const asked = list.filter((k) => k !== '');
    client.suggestions({keys: asked.length === 0 ? 'all' : asked, format: fmt as SuggestionFormat}, abort.signal).then(
      (result) => setOutcome({id, result}),
      (err: unknown) => {
        if (!abort.signal.aborted) setOutcome({id, error: err instanceof Error ? err.message : String(err)});
      },
    );
    return () => abort.abort();
  }, [client, id, refreshToken]);

  const current = outcome !== null && outcome.id === id ? outcome : null;
  const result = current !== null && 'result' in current ? current.result : null;
  const error = current !== null && 'error' in current ? current.error : null;
  const yaml = result?.yaml ?? '';
  const scope = keys.length === 0 ? 'every open finding' : `the ${plural(keys.length, 'selected destination')}`;
  return (
    <section className='ea-panel' aria-labelledby='ea-yaml-title'>
      <div className='ea-spread'>
        <h3 id='ea-yaml-title' ref={headingRef} tabIndex={-1}>
          {'Suggested YAML'}
        </h3>
        <FormatSelect format={format} onFormat={onFormat} />
      </div>
      <p className='ea-small ea-muted'>{`For ${scope}. Only what is not allowed yet is listed; select rows in the table to narrow it.`}</p>
      <div aria-live='polite'>
        {current === null && <p role='status'>{'Writing the YAML…'}</p>}
        {error !== null && <p className='ea-error-text'>{error}</p>}
        {result !== null && yaml === '' && (
          <p>{'Nothing to add: every destination here is already allowed, or cannot be allowed by a ServiceEntry (see below).'}</p>
        )}
      </div>
      {result !== null && yaml !== '' && <YamlOutput yaml={yaml} label={`Suggested YAML, ${FORMAT_LABEL[format]}`} filename={downloadName(format)} />}
      {result !== null && <LeftOut result={result} />}
    </section>
  );
});
