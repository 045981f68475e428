/**
 * The pages a person sees on a demo provider: the login form (username and
 * password of a demo account) and the logout confirmation. Plain HTML, in
 * Chinese, no script: oidc-provider binds the form to the interaction by its
 * cookie, so the form itself carries nothing secret.
 */

const escapeHtml = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>body{font-family:system-ui,"PingFang SC","Microsoft YaHei",sans-serif;max-width:24rem;margin:4rem auto;padding:0 1rem}
label{display:block;margin:.75rem 0 .25rem}input{width:100%;padding:.5rem;box-sizing:border-box}button{margin-top:1rem;padding:.5rem 1.5rem}
.error{color:#b00020}.note{color:#666;font-size:.875rem}</style></head>
<body>${body}</body></html>`;
}

export interface LoginPageOptions {
  /** The provider's name, e.g. 湖南省统一身份认证平台（演示）. */
  title: string;
  /** Where the form posts. */
  action: string;
  /** Where 取消 leads. */
  abort: string;
  /** The calling application's client id. */
  clientId: string;
  /** Shown above the form after a failed attempt. */
  error?: string;
  username?: string;
}

/** The login form. */
export function loginPage(options: LoginPageOptions): string {
  return page(
    options.title,
    `<h1>${escapeHtml(options.title)}</h1>
<p>应用 <code>${escapeHtml(options.clientId)}</code> 请求以您的身份访问跨省通办数据共享网关。</p>
${options.error ? `<p class="error" role="alert">${escapeHtml(options.error)}</p>` : ''}
<form method="post" action="${escapeHtml(options.action)}">
<label for="username">用户名</label><input id="username" name="username" autocomplete="username" required value="${escapeHtml(options.username ?? '')}">
<label for="password">密码</label><input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">登录</button>
</form>
<p><a href="${escapeHtml(options.abort)}">取消</a></p>
<p class="note">演示环境：账号见项目 README。</p>`,
  );
}

/** The logout confirmation; `form` is oidc-provider's hidden form, submitted by the button. */
export function logoutPage(title: string, form: string): string {
  return page(
    title,
    `<h1>${escapeHtml(title)}</h1>${form}<p>确定要退出登录吗？</p>
<button type="submit" form="op.logoutForm" value="yes" name="logout">退出登录</button>
<button type="submit" form="op.logoutForm">保持登录</button>`,
  );
}

/** After a logout without a redirect back to the application. */
export function loggedOutPage(title: string): string {
  return page(title, `<h1>${escapeHtml(title)}</h1><p>您已退出登录。</p>`);
}
