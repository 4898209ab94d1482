import { describe, expect, it } from 'vitest';
import {
  cleanBody,
  cleanSubject,
  headers,
  listOf,
  threadPairs,
  type Message,
} from '../scripts/datasets/mailing-lists.js';

describe('mailing-list dataset builder', () => {
  it('reads folded headers, the list, and cleans subjects and bodies', () => {
    const raw =
      'Subject: Re: [ILUG] Kernel\n  panic on boot\nList-Id: Irish Linux Users <ilug.linux.ie>\nMessage-Id: <a@x>\n\nHi all,\n> quoted\nJohn wrote:\nreal text\n-- \nsig';
    const { fields, body } = headers(raw);
    expect(fields.get('subject')).toBe('Re: [ILUG] Kernel panic on boot');
    expect(listOf(fields)).toBe('ilug');
    expect(listOf(new Map([['subject', '[SAtalk] hello']]))).toBe('satalk');
    expect(cleanSubject('Re: RE: [ILUG] Kernel panic')).toBe('Kernel panic');
    expect(cleanBody(body)).toBe('Hi all, real text');
  });

  it('pairs posts of one thread, linked by replies (or, as the variant, by subject), within a list only', () => {
    const m = (
      tenant: string,
      id: string,
      messageId: string,
      parents: string[],
      subject: string,
    ): Message => ({ tenant, id, messageId, parents, subject, title: subject, body: '' });
    const messages = [
      m('a', '1', '<1>', [], 'kernel panic'),
      m('a', '2', '<2>', ['<1>'], 'something else'),
      m('a', '3', '<3>', [], 'kernel panic'),
      m('a', '4', '<4>', [], 'unrelated'),
      m('b', '5', '<5>', ['<1>'], 'kernel panic'),
    ];
    expect(threadPairs(messages)).toEqual(['a\t1\t2']);
    expect(threadPairs(messages, true).sort()).toEqual(['a\t1\t2', 'a\t1\t3', 'a\t2\t3'].sort());
  });
});
