// What a person reads on the pages, per language: the labels of the merchant
// documentation (SPEC §3 "Labels") and their Dutch versions from the nl catalogs.
// Tests find elements by these, never by CSS selectors.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const LABELS = {
  en: {
    locale: 'en-US',
    language: 'Language',
    // Admin
    adminLoginTitle: 'Welcome, please sign in',
    username: 'Username',
    password: 'Password',
    adminSignIn: 'Sign in',
    adminMenu: 'Admin menu',
    channel: 'Amazon Sales Channel',
    welcome: 'Welcome to Amazon Sales Channel',
    missing: /No API key is stored yet/,
    revoked: /was revoked in the API Portal/,
    expired: /has expired/,
    unreachable: /could not be checked right now/,
    keptKey: /Your stored key was kept/,
    tryAgain: 'Try again',
    signIn: 'Sign in',
    addKey: 'Add the key',
    configTitle: 'Configuration',
    magentoServices: 'Magento Services',
    apiKeys: 'API Keys',
    productionApiKey: 'Production Api key',
    saveConfig: 'Save Config',
    configSaved: 'You saved the configuration.',
    storeIntegration: 'Store Integration',
    storesTable: 'Amazon stores',
    addStoreTitle: 'Add store',
    storeName: 'Store name',
    storeEmail: 'Contact email',
    storeWebsite: 'Commerce website',
    storeMarketplace: 'Marketplace country',
    storeSubmit: 'Save and continue',
    storeSaved: /The Amazon store was saved/,
    fixErrors: 'Please correct the fields marked below.',
    nameRequired: 'Name is required',
    emailInvalid: 'Email is invalid',
    mainWebsite: 'Main Website',
    marketplaceUS: 'United States',
    pending: 'Authorization pending',
    // Account site
    accountSignInTitle: 'Sign in',
    toContinue: 'Sign in to open the API Portal.',
    createAccount: 'Create account',
    yourName: 'Your name',
    company: 'Company',
    email: 'Email',
    accountPassword: 'Password',
    accountSignInButton: 'Sign in',
    myAccount: 'My Account',
    apiPortal: 'API Portal',
    accountTabs: 'My Account sections',
    description: 'Description',
    environment: 'Environment',
    production: 'Production',
    addNew: 'Add New',
    newKeyTitle: (name) => `Your new key “${name}”`,
    copy: 'Copy',
    copied: 'Copied to the clipboard',
    keysTable: "Your company's API keys",
    revokeLink: (name) => `Revoke ${name}`,
    revokeHeading: (name) => `Revoke the key “${name}”?`,
    revokeConfirm: 'Revoke key',
    revokedNotice: /The key was revoked/,
    statusValid: 'Valid',
    statusRevoked: 'Revoked',
    statusExpired: 'Expired',
    loginFailed: 'The email or password is not correct.',
    expiryWarning: /Your API key expires on/,
    // Account site: company members and invitations
    members: 'Members',
    membersTable: 'Members',
    auditTab: 'Audit log',
    messagesTab: 'Messages',
    inviteTitle: 'Invite a member',
    role: 'Role',
    roleMember: 'Member',
    roleOwner: 'Owner',
    you: '(you)',
    sendInvitation: 'Send invitation',
    invitedTitle: (email) => `Invitation for ${email}`,
    inviteNoSmtp: /Email is not configured on this service, so the invitation is not sent\. Copy this link and send it yourself/,
    invitationLink: 'Invitation link',
    copyLink: 'Copy link',
    pendingTable: 'Pending invitations',
    noPending: 'No pending invitations.',
    withdrawLabel: (email) => `Withdraw the invitation for ${email}`,
    removeMemberLink: (email) => `Remove ${email}`,
    makeOwnerButton: (email) => `Make owner: ${email}`, // the visible "Make owner" in the name (WCAG 2.5.3)
    makeMemberButton: (email) => `Make member: ${email}`,
    roleChanged: /The role was changed\./,
    removeMemberHeading: (name) => `Remove ${name} from the company?`,
    removeMemberConfirm: 'Remove member',
    memberRemoved: /The member was removed\. Their sessions have ended/,
    joinHeading: (company) => `Join ${company}`,
    joinIntro: (inviter, email, role) => `${inviter} invited ${email} to join as ${role}.`,
    joinNewAccount: 'Create your account',
    joinCreate: 'Create account and join',
    joinHaveAccount: 'Already have an account with this email?',
    joined: 'Welcome! You are now a member of this company.',
    invitationTitle: 'Invitation',
    invitationUsed: 'This invitation has been used already. Sign in to continue.',
    invitationWithdrawn: "This invitation was withdrawn. Ask the company's owner for a new one.",
    withdrawnNotice: /The invitation was withdrawn\. Its link no longer works/,
    passwordShort: 'The password must be at least 12 characters long.',
    // Admin: phone menu, audit, errors
    menuButton: 'Menu',
    adminAudit: 'Configuration audit log',
    adminAuditEmpty: 'No configuration changes yet.',
    adminLoginFailed: /The account sign-in was incorrect/,
    gatewayUrl: 'Production gateway URL',
    configNotSaved: /The configuration was not saved/,
  },
  nl: {
    locale: 'nl-NL',
    language: 'Taal',
    adminLoginTitle: 'Welkom, meld u aan',
    username: 'Gebruikersnaam',
    password: 'Wachtwoord',
    adminSignIn: 'Aanmelden',
    adminMenu: 'Adminmenu',
    channel: 'Amazon Sales Channel',
    welcome: 'Welkom bij Amazon Sales Channel',
    missing: /Er is nog geen API-sleutel opgeslagen/,
    revoked: /is ingetrokken in het API-portaal/,
    expired: /is verlopen/,
    unreachable: /kon nu niet worden gecontroleerd/,
    keptKey: /Uw opgeslagen sleutel is bewaard/,
    tryAgain: 'Opnieuw proberen',
    signIn: 'Aanmelden',
    addKey: 'Sleutel toevoegen',
    configTitle: 'Configuratie',
    magentoServices: 'Magento Services',
    apiKeys: 'API-sleutels',
    productionApiKey: 'Productie-API-sleutel',
    saveConfig: 'Configuratie opslaan',
    configSaved: 'U hebt de configuratie opgeslagen.',
    storeIntegration: 'Winkelintegratie',
    storesTable: 'Amazon-winkels',
    addStoreTitle: 'Winkel toevoegen',
    storeName: 'Winkelnaam',
    storeEmail: 'Contact-e-mailadres',
    storeWebsite: 'Commerce-website',
    storeMarketplace: 'Land van de marktplaats',
    storeSubmit: 'Opslaan en doorgaan',
    storeSaved: /De Amazon-winkel is opgeslagen/,
    fixErrors: 'Verbeter de velden die hieronder zijn gemarkeerd.',
    nameRequired: 'Naam is verplicht',
    emailInvalid: 'E-mailadres is ongeldig',
    mainWebsite: 'Main Website',
    marketplaceUS: 'Verenigde Staten',
    pending: 'Autorisatie in afwachting',
    accountSignInTitle: 'Aanmelden',
    toContinue: 'Meld u aan om het API-portaal te openen.',
    createAccount: 'Account aanmaken',
    yourName: 'Uw naam',
    company: 'Bedrijf',
    email: 'E-mailadres',
    accountPassword: 'Wachtwoord',
    accountSignInButton: 'Aanmelden',
    myAccount: 'Mijn account',
    apiPortal: 'API-portaal',
    accountTabs: 'Onderdelen van Mijn account',
    description: 'Omschrijving',
    environment: 'Omgeving',
    production: 'Productie',
    addNew: 'Nieuwe toevoegen',
    newKeyTitle: (name) => `Uw nieuwe sleutel “${name}”`,
    copy: 'Kopiëren',
    copied: 'Gekopieerd naar het klembord',
    keysTable: 'De API-sleutels van uw bedrijf',
    revokeLink: (name) => `${name} intrekken`,
    revokeHeading: (name) => `De sleutel “${name}” intrekken?`,
    revokeConfirm: 'Sleutel intrekken',
    revokedNotice: /De sleutel is ingetrokken/,
    statusValid: 'Geldig',
    statusRevoked: 'Ingetrokken',
    statusExpired: 'Verlopen',
    loginFailed: 'Het e-mailadres of wachtwoord is onjuist.',
    expiryWarning: /Uw API-sleutel verloopt op/,
    members: 'Leden',
    membersTable: 'Leden',
    auditTab: 'Auditlog',
    messagesTab: 'Berichten',
    inviteTitle: 'Een lid uitnodigen',
    role: 'Rol',
    roleMember: 'Lid',
    roleOwner: 'Eigenaar',
    you: '(u)',
    sendInvitation: 'Uitnodiging versturen',
    invitedTitle: (email) => `Uitnodiging voor ${email}`,
    inviteNoSmtp: /E-mail is op deze dienst niet ingesteld, dus de uitnodiging wordt niet verstuurd\. Kopieer deze link en stuur hem zelf/,
    invitationLink: 'Uitnodigingslink',
    copyLink: 'Link kopiëren',
    pendingTable: 'Openstaande uitnodigingen',
    noPending: 'Geen openstaande uitnodigingen.',
    withdrawLabel: (email) => `De uitnodiging voor ${email} intrekken`,
    removeMemberLink: (email) => `${email} verwijderen`,
    makeOwnerButton: (email) => `${email} eigenaar maken`,
    makeMemberButton: (email) => `${email} lid maken`,
    roleChanged: /De rol is gewijzigd\./,
    removeMemberHeading: (name) => `${name} uit het bedrijf verwijderen?`,
    removeMemberConfirm: 'Lid verwijderen',
    memberRemoved: /Het lid is verwijderd\. Hun sessies zijn beëindigd/,
    joinHeading: (company) => `Lid worden van ${company}`,
    joinIntro: (inviter, email, role) => `${inviter} heeft ${email} uitgenodigd om lid te worden als ${role}.`,
    joinNewAccount: 'Maak uw account aan',
    joinCreate: 'Account aanmaken en lid worden',
    joinHaveAccount: 'Hebt u al een account met dit e-mailadres?',
    joined: 'Welkom! U bent nu lid van dit bedrijf.',
    invitationTitle: 'Uitnodiging',
    invitationUsed: 'Deze uitnodiging is al gebruikt. Meld u aan om verder te gaan.',
    invitationWithdrawn: 'Deze uitnodiging is ingetrokken. Vraag de eigenaar van het bedrijf om een nieuwe.',
    withdrawnNotice: /De uitnodiging is ingetrokken\. De link werkt niet meer/,
    passwordShort: 'Het wachtwoord moet minstens 12 tekens lang zijn.',
    menuButton: 'Menu',
    adminAudit: 'Auditlog van de configuratie',
    adminAuditEmpty: 'Nog geen wijzigingen in de configuratie.',
    adminLoginFailed: /De aanmelding was onjuist/,
    gatewayUrl: 'URL van de productiegateway',
    configNotSaved: /De configuratie is niet opgeslagen/,
  },
};

export const KEY_RE = /^cmk_live_[0-9A-Za-z]{36}$/;

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

function readCatalog(ui, lang) {
  const text = fs.readFileSync(path.join(ROOT, 'crates', ui, 'locales', `${lang}.txt`), 'utf8');
  const map = new Map();
  for (const line of text.split('\n')) {
    const t = line.trim();
    if (!t || t.startsWith('#')) continue;
    const i = t.indexOf(' = ');
    if (i > 0) map.set(t.slice(0, i), t.slice(i + 3));
  }
  return map;
}

/**
 * English texts of both UIs' catalogs that the Dutch catalog says differently:
 * none of them should be on a page shown in Dutch. Short texts and templates
 * with placeholders are left out (too easy to hit by coincidence).
 */
// The brand "Commerce" + "Account" reads like site.name in either language.
const NOT_CHECKED = new Set(['account:site.name']);

export function englishOnlyTexts() {
  const out = new Set();
  for (const ui of ['admin', 'account']) {
    const en = readCatalog(ui, 'en');
    const nl = readCatalog(ui, 'nl');
    for (const [key, value] of en) {
      if (value.length < 8 || value.includes('{') || NOT_CHECKED.has(`${ui}:${key}`)) continue;
      if (nl.get(key) === value) continue;
      out.add(value);
    }
  }
  return [...out];
}
