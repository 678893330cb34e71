/**
 * Who is using the page: `?user=` in its URL, or `guest`. The tabs of one user share one
 * connection (the shared socket's name includes the user, so two users never share one).
 */
export const USER = new URLSearchParams(location.search).get('user')?.trim() || 'guest'

/** This tab's name in the chat, so lines from different tabs of one user tell apart. */
export const TAB = `tab-${Math.random().toString(36).slice(2, 6)}`
