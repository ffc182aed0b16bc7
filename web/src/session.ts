import { createContext, useContext } from 'react';
import type { Session } from './types';

export const SessionContext = createContext<Session>({ name: '', role: 'user' });
export const useSession = () => useContext(SessionContext);
