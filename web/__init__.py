"""The HTTP edge of the console: the st.App's own routes and middleware (security headers, the
sign-in cookie). Like pages/, it calls only services."""
