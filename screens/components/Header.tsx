import { Box, Text } from 'ink';

export interface HeaderInfo {
  context?: string;
  version?: string;
  user?: string;
  preview: boolean;
}

export function Header({ context, version, user, preview }: HeaderInfo) {
  return (
    <Box gap={2}>
      <Text bold color="cyan">
        kube-harden
      </Text>
      <Text>
        context <Text bold>{context ?? '…'}</Text>
      </Text>
      {version ? <Text>server {version}</Text> : null}
      {user ? <Text>user {user}</Text> : null}
      {preview ? (
        <Text backgroundColor="yellow" color="black" bold>
          {' PREVIEW '}
        </Text>
      ) : null}
    </Box>
  );
}
