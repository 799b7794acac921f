import { Text, useAnimation } from 'ink';

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

export function Spinner() {
  const { frame } = useAnimation({ interval: 80 });
  return <Text color="cyan">{FRAMES[frame % FRAMES.length]}</Text>;
}
