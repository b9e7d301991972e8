import { parseAuditText } from '@avcstream/audit';
import { describe, expect, it } from 'vitest';
import { storedEvent } from './stored-event.ts';

describe('storedEvent', () => {
  it('keeps a USER_MAC_CONFIG_CHANGE (semanage) record with its fields, for the report rebuilt from the state dir', () => {
    const { events } = parseAuditText(
      'type=USER_MAC_CONFIG_CHANGE msg=audit(1763900020.000:702): pid=7 uid=0 auid=1000 ses=2 msg=\'resrc=boolean op=modify name=httpd_can_network_connect val=1 exe="/usr/sbin/semanage" res=success\'\n',
    );
    const kept = storedEvent(events[0]!).event;
    expect(kept.records.map((r) => r.type)).toEqual(['USER_MAC_CONFIG_CHANGE']);
    expect(kept.records[0]!.fields).toMatchObject({
      resrc: 'boolean',
      op: 'modify',
      name: 'httpd_can_network_connect',
      val: '1',
      exe: '/usr/sbin/semanage',
      res: 'success',
      auid: '1000',
    });
  });
});
