import React, {useEffect, useRef, useState} from 'react';

import {copyText} from '../../utils/clipboard';

interface Props {
  text: string;
  /** Visible label; also says what is copied, e.g. "Copy YAML". */
  label?: string;
  className?: string;
  disabled?: boolean;
}

type Result = 'idle' | 'copied' | 'failed';

const RESET_MS = 2500;

/** A button that copies `text` and says whether it worked, to the eye and to screen readers. */
export function CopyButton({text, label = 'Copy', className = 'ea-btn ea-btn--secondary', disabled}: Props) {
  const [result, setResult] = useState<Result>('idle');
  const timer = useRef<number | null>(null);
  const mounted = useRef(true);

  useEffect(() => {
    mounted.current = true;
    return () => {
      mounted.current = false;
      if (timer.current !== null) window.clearTimeout(timer.current);
    };
  }, []);

  const onClick = async () => {
    const ok = await copyText(text);
    if (!mounted.current) return;
    setResult(ok ? 'copied' : 'failed');
    if (timer.current !== null) window.clearTimeout(timer.current);
    timer.current = window.setTimeout(() => setResult('idle'), RESET_MS);
  };

  const shown = result === 'copied' ? 'Copied' : result === 'failed' ? 'Copy failed' : label;
  return (
    <>
      <button type='button' className={className} onClick={onClick} disabled={disabled}>
        {shown}
      </button>
      <span className='ea-sr-only' role='status' aria-live='polite'>
        {result === 'copied' ? 'Copied to the clipboard' : result === 'failed' ? 'Copy failed: select the text and copy it by hand' : ''}
      </span>
    </>
  );
}
