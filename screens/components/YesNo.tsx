import { Text, useInput } from 'ink';

export interface YesNoProps {
  initial: boolean;
  onAnswer: (yes: boolean) => void;
  onQuit?: () => void;
  onBack?: () => void;
}

/** y / n, Enter takes the default (shown in capitals). */
export function YesNo({ initial, onAnswer, onQuit, onBack }: YesNoProps) {
  useInput((input, key) => {
    if (input === 'y' || input === 'Y') onAnswer(true);
    else if (input === 'n' || input === 'N') onAnswer(false);
    else if (key.return) onAnswer(initial);
    else if (key.leftArrow) onBack?.();
    else if (input === 'q' || key.escape) onQuit?.();
  });
  return <Text dimColor>{initial ? '(Y/n)' : '(y/N)'}</Text>;
}
