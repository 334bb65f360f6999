// Company members: the owner invites a colleague by link, the colleague (in
// another browser) creates an account from it and works with the company's
// keys, the owner removes them again (they no longer see the company; with no other
// company, the page says they belong to none), and the
// link stays used; a withdrawn invitation's link stops working. The same walk
// in English and in Dutch (by the labels of lib/labels.js).
import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  KEY_NAME, apiCreateKey, expectMembers, inviteMember, newAccount,
  openMembersTab, openPortalTab, signUpHere,
} from '../lib/flows.js';
import { Session } from '../lib/browser.js';
import { TEST_TIMEOUT, withWorld } from '../lib/fixture.js';

for (const lang of ['en', 'nl']) {
  test(`members (${lang}): invite → join with a new account → the company’s keys → removed, in no company, link used`, { timeout: TEST_TIMEOUT }, async () => {
    await withWorld(`members-${lang}`, { lang }, async ({ server, s, L, dir }) => {
      // The owner signs up in the browser; a script makes the company's key.
      const owner = newAccount();
      const colleague = { name: 'Sam Colleague', email: 'sam@luma-outdoor.example.com', password: 'another-long-passphrase' };
      const site = await s.newPage();
      await site.goto(`${server.accountUrl}/signup`);
      await signUpHere(s, site, L, owner, { shots: false });
      const sid = (await s.context.cookies(server.accountUrl)).find((c) => c.name === 'acct_sid');
      assert.ok(sid, 'the account site set acct_sid');
      const created = await apiCreateKey(server.accountUrl, `acct_sid=${sid.value}`, { name: KEY_NAME });

      // Members tab: the owner alone, the invite form, nothing pending.
      await openMembersTab(site, L);
      const members = site.getByRole('table', { name: L.membersTable, exact: true });
      const ownerRow = members.getByRole('row').filter({ hasText: owner.email });
      await ownerRow.getByText(L.roleOwner, { exact: true }).waitFor();
      await ownerRow.getByText(L.you, { exact: true }).waitFor();
      assert.equal(await members.getByRole('row').count(), 2, 'a header row and the owner');
      assert.equal(await site.getByRole('link', { name: L.removeMemberLink(owner.email) }).count(), 0, 'the owner cannot remove themself');
      await site.getByText(L.noPending, { exact: true }).waitFor();
      const tabs = site.getByRole('navigation', { name: L.accountTabs });
      await tabs.getByRole('link', { name: L.auditTab, exact: true }).waitFor();
      await tabs.getByRole('link', { name: L.messagesTab, exact: true }).waitFor();

      // Invite: no SMTP in the tests, so the page shows the link to send by hand.
      const link = await inviteMember(site, L, colleague.email);
      const pending = site.getByRole('table', { name: L.pendingTable, exact: true });
      const pendingRow = pending.getByRole('row').filter({ hasText: colleague.email });
      await pendingRow.getByText(L.roleMember, { exact: true }).waitFor();
      await pendingRow.getByText(owner.email, { exact: true }).waitFor(); // invited by
      await pendingRow.getByRole('button', { name: L.withdrawLabel(colleague.email), exact: true }).waitFor();
      await s.shot(site, 'members-invitation-link');
      await s.audit(site, 'members-invitation-link', { lang, layout: true, mobileShot: true });

      // Copy link: the clipboard holds the link, the button and a status line say so.
      const card = site.getByRole('region', { name: L.invitedTitle(colleague.email), exact: true });
      await card.getByRole('button', { name: L.copyLink, exact: true }).click();
      await card.getByRole('button', { name: L.copied, exact: true }).waitFor({ timeout: 1_800 });
      await card.getByRole('status').filter({ hasText: L.copied }).waitFor();
      assert.equal(await site.evaluate(() => navigator.clipboard.readText()), link, 'the clipboard holds the link');

      // The colleague, in a browser of their own, opens the link.
      const s2 = await Session.open(s.context.browser(), dir, { locale: L.locale });
      s2.shot = (page, name) => s.shot(page, name); // one numbering in the artifacts dir
      try {
        const them = await s2.newPage();
        await them.goto(link);
        await them.getByRole('heading', { name: L.joinHeading(owner.company), level: 1 }).waitFor();
        await them.getByText(L.joinIntro(owner.email, colleague.email, L.roleMember.toLowerCase()), { exact: true }).waitFor();
        await them.getByRole('heading', { name: L.joinNewAccount, level: 2 }).waitFor();
        const email = them.getByLabel(L.email, { exact: true });
        assert.equal(await email.inputValue(), colleague.email, 'the invited email is filled in');
        assert.equal(await email.getAttribute('readonly'), '', 'the invited email is read-only');
        await them.getByText(L.joinHaveAccount).waitFor();
        const signInHref = await them.getByRole('main').getByRole('link', { name: L.signIn, exact: true }).getAttribute('href');
        assert.equal(new URL(signInHref, link).searchParams.get('next'), new URL(link).pathname, 'Sign in comes back to the link');
        await s2.shot(them, 'join-new-account');
        await s2.audit(them, 'join-new-account', { lang, layout: true, mobileShot: true });

        // Too short a password first: the field says why, the name is kept.
        s2.allow(/status of 422/);
        await them.getByLabel(L.yourName, { exact: true }).fill(colleague.name);
        await them.getByLabel(L.accountPassword, { exact: true }).fill('short');
        await them.getByRole('button', { name: L.joinCreate, exact: true }).click();
        await them.getByRole('alert').filter({ hasText: L.fixErrors }).waitFor();
        const password = them.getByLabel(L.accountPassword, { exact: true });
        await them.getByText(L.passwordShort, { exact: true }).waitFor();
        assert.equal(await password.getAttribute('aria-invalid'), 'true');
        assert.equal(await them.getByLabel(L.yourName, { exact: true }).inputValue(), colleague.name, 'the name is kept');
        await s2.audit(them, 'join-password-short', { lang });

        await password.fill(colleague.password);
        await them.getByRole('button', { name: L.joinCreate, exact: true }).click();

        // Members, as a member: welcomed, listed, but no owner's tools.
        await them.waitForURL((u) => u.pathname === '/account/members' && u.searchParams.get('notice') === 'joined');
        await expectMembers(them, L);
        await them.getByRole('status').filter({ hasText: L.joined }).waitFor();
        const theirView = them.getByRole('table', { name: L.membersTable, exact: true });
        const me = theirView.getByRole('row').filter({ hasText: colleague.email });
        await me.getByText(L.roleMember, { exact: true }).waitFor();
        await me.getByText(L.you, { exact: true }).waitFor();
        await me.getByText(colleague.name).waitFor();
        await theirView.getByRole('row').filter({ hasText: owner.email }).getByText(L.roleOwner, { exact: true }).waitFor();
        assert.equal(await them.getByRole('region', { name: L.inviteTitle }).count(), 0, 'a member has no invite form');
        assert.equal(await them.getByRole('button', { name: L.sendInvitation }).count(), 0);
        assert.equal(await them.getByRole('link', { name: L.removeMemberLink(owner.email) }).count(), 0, 'a member removes no one');
        assert.equal(await them.getByRole('table', { name: L.pendingTable }).count(), 0, 'a member sees no invitations');
        const theirTabs = them.getByRole('navigation', { name: L.accountTabs });
        assert.equal(await theirTabs.getByRole('link', { name: L.auditTab }).count(), 0, 'no Audit log tab for a member');
        assert.equal(await theirTabs.getByRole('link', { name: L.messagesTab }).count(), 0, 'no Messages tab for a member');
        await s2.shot(them, 'members-as-member');
        await s2.audit(them, 'members-as-member', { lang });

        // The API Portal lists the company's key, made by the owner.
        await openPortalTab(them, L);
        const keyRow = them.getByRole('table', { name: L.keysTable }).getByRole('row').filter({ hasText: KEY_NAME });
        await keyRow.getByText(created.hint, { exact: true }).waitFor();
        await keyRow.getByText(L.statusValid, { exact: true }).waitFor();
        await s2.shot(them, 'api-portal-as-member');

        // The owner sees the new member, and the invitation is no longer pending.
        await site.goto(`${server.accountUrl}/account/members`);
        await expectMembers(site, L);
        const memberRow = members.getByRole('row').filter({ hasText: colleague.email });
        await memberRow.getByText(L.roleMember, { exact: true }).waitFor();
        await site.getByText(L.noPending, { exact: true }).waitFor();
        assert.equal(await site.getByRole('table', { name: L.pendingTable }).count(), 0);

        // Make owner: the member's next page has the owner's tools; then back.
        await memberRow.getByRole('button', { name: L.makeOwnerButton(colleague.email), exact: true }).click();
        await site.getByRole('status').filter({ hasText: L.roleChanged }).waitFor();
        await memberRow.getByText(L.roleOwner, { exact: true }).waitFor();
        await them.goto(`${server.accountUrl}/account/members`);
        await them.getByRole('button', { name: L.sendInvitation }).waitFor();
        await them.getByRole('navigation', { name: L.accountTabs }).getByRole('link', { name: L.auditTab }).waitFor();
        await memberRow.getByRole('button', { name: L.makeMemberButton(colleague.email), exact: true }).click();
        await site.getByRole('status').filter({ hasText: L.roleChanged }).waitFor();
        await memberRow.getByText(L.roleMember, { exact: true }).waitFor();
        await them.reload();
        await them.getByRole('table', { name: L.membersTable, exact: true }).waitFor();
        assert.equal(await them.getByRole('button', { name: L.sendInvitation }).count(), 0, 'a member again');

        // Remove → a confirmation page → Remove member.
        await memberRow.getByRole('link', { name: L.removeMemberLink(colleague.email), exact: true }).click();
        await site.getByRole('heading', { name: L.removeMemberHeading(colleague.name), level: 1 }).waitFor();
        await site.getByText(colleague.email, { exact: true }).waitFor();
        await s.shot(site, 'remove-member-confirm');
        await s.audit(site, 'remove-member-confirm', { lang, layout: true });
        await site.getByRole('button', { name: L.removeMemberConfirm, exact: true }).click();
        await site.waitForURL((u) => u.pathname === '/account/members');
        await site.getByRole('status').filter({ hasText: L.memberRemoved }).waitFor();
        assert.equal(await members.getByRole('row').filter({ hasText: colleague.email }).count(), 0, 'no longer listed');
        await s.shot(site, 'members-removed');

        // The colleague's membership ended at once: with no other company,
        // the next page says they belong to none (their account stays).
        await them.bringToFront();
        await them.getByRole('navigation', { name: L.accountTabs }).getByRole('link', { name: L.members, exact: true }).click();
        await them.waitForURL((u) => u.pathname === '/account/companies');
        await them.getByRole('heading', { name: L.noCompanyTitle, level: 2 }).waitFor();
        await s2.shot(them, 'removed-member-no-company');
        await s2.audit(them, 'removed-member-no-company', { lang, layout: true, mobileShot: true });

        // The link was used: it says so, with a way to sign in.
        s2.allow(/status of 410/);
        const res = await them.goto(link);
        assert.equal(res.status(), 410);
        await them.getByRole('heading', { name: L.invitationTitle, level: 1 }).waitFor();
        await them.getByRole('alert').filter({ hasText: L.invitationUsed }).waitFor();
        assert.equal(await them.getByLabel(L.accountPassword).count(), 0, 'no form on a used link');
        await s2.shot(them, 'join-link-used');
        await s2.audit(them, 'join-link-used', { lang });

        // Still signed in, but the company's keys are out of reach.
        await them.goto(`${server.accountUrl}/account/api-portal`);
        await them.waitForURL((u) => u.pathname === '/account/companies');
        await them.getByRole('heading', { name: L.noCompanyTitle, level: 2 }).waitFor();
        assert.equal(await them.getByText(created.hint).count(), 0, 'the removed member no longer sees the company’s key');

        // A second invitation, withdrawn by the owner: its link stops working.
        await site.bringToFront();
        const typo = 'sam@luma-outdoor.example';
        const withdrawnLink = await inviteMember(site, L, typo);
        await pending.getByRole('button', { name: L.withdrawLabel(typo), exact: true }).click();
        await site.waitForURL((u) => u.pathname === '/account/members');
        await site.getByRole('status').filter({ hasText: L.withdrawnNotice }).waitFor();
        await site.getByText(L.noPending, { exact: true }).waitFor();
        await them.bringToFront();
        assert.equal((await them.goto(withdrawnLink)).status(), 410);
        await them.getByRole('alert').filter({ hasText: L.invitationWithdrawn }).waitFor();
        assert.equal(await them.getByLabel(L.accountPassword).count(), 0, 'no form on a withdrawn link');
        await s2.assertClean();
      } finally {
        await s2.close();
      }
    });
  });
}
