"""The operator console: the Django admin site of Raxx, its passkey sign-in, dashboard,
customer page and read-access log. Feature apps keep registering their own ModelAdmins."""
