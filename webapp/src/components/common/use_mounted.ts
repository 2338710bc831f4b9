import {useEffect, useRef, type MutableRefObject} from 'react';

/**
 * Whether the component is still on screen. A request the admin started may answer after they left the
 * page; its answer must then not set state on a component React has already removed.
 */
export function useMounted(): MutableRefObject<boolean> {
  const mounted = useRef(true);
  useEffect(() => {
    mounted.current = true;
    return () => {
      mounted.current = false;
    };
  }, []);
  return mounted;
}
