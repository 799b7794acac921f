import { Box, Text, useWindowSize } from 'ink';

export interface HeaderInfo {
  context?: string;
  version?: string;
  user?: string;
  preview: boolean;
}

/** One row, whatever the width: the PREVIEW badge and the context first; the rest as room allows. */
export function Header({ context, version, user, preview }: HeaderInfo) {
  const { columns } = useWindowSize();
  const width = columns || 80;
  const badge = preview ? ' PREVIEW ' : '';
  const parts = [`context ${context ?? '…'}`, version ? `server ${version}` : '', user ? `user ${user}` : ''].filter(Boolean);
  // Drop the least important parts until the row fits (the context is truncated last).
  while (parts.length > 1 && 'kube-harden'.length + badge.length + parts.join('  ').length + 2 * (parts.length + 1) > width) parts.pop();
  return (
    <Box>
      <Text wrap="truncate-end">
        <Text bold color="cyan">
          kube-harden
        </Text>
        {preview ? (
          <Text>
            {'  '}
            <Text backgroundColor="yellow" color="black" bold>
              {badge}
            </Text>
          </Text>
        ) : null}
        {`  ${parts.join('  ')}`}
      </Text>
    </Box>
  );
}
