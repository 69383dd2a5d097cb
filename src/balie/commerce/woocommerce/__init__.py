"""WooCommerce: its order webhooks and the reconciliation pull through its REST API (docs/woocommerce.md)."""
