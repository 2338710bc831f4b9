import React from 'react';

import type {BridgeError} from '../../client';

interface Props {
  error: BridgeError;
  onRetry: () => void;
}

/** A failed request: the bridge's own words with its code and request id (to find its log lines), and a retry. */
export function ErrorCallout({error, onRetry}: Props) {
  return (
    <div className='ea-callout ea-callout--error' role='alert'>
      <strong>{error.unreachable ? 'The bridge could not be reached. ' : 'The bridge answered with an error. '}</strong>
      {error.message}
      {(error.code !== null || error.requestId !== null) && (
        <div className='ea-small ea-muted'>
          {[
            error.code !== null ? `code ${error.code}` : '',
            error.status > 0 ? `HTTP ${error.status}` : '',
            error.requestId !== null ? `request ${error.requestId}` : '',
          ]
            .filter(Boolean)
            .join(' · ')}
        </div>
      )}
      <div style={{marginTop: 8}}>
        <button type='button' className='ea-btn ea-btn--secondary' onClick={onRetry}>
          {'Try again'}
        </button>
      </div>
    </div>
  );
}
