using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace ExchangeBridge.Server.Console.Pages;

/// <summary>Sign-out (a POST with the antiforgery token, from every page's header): the session cookie is removed.</summary>
public sealed class SignOutModel : PageModel
{
    public IActionResult OnGet() => LocalRedirect(ConsoleRegistration.PathPrefix);

    public async Task<IActionResult> OnPostAsync()
    {
        await HttpContext.SignOutAsync(ConsoleRegistration.Scheme);
        return LocalRedirect(ConsoleRegistration.SignInPath);
    }
}
